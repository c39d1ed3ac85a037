import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { checkRecipients } from './age.js';
import { backupSigningKey, generateBackupSigningKey, type BackupSigningKey } from './manifest.js';

export const SIGNING_KEY_FILE = 'backup-signing.key';

/**
 * The Ed25519 key that signs manifests: from the config, or created once in the data directory
 * (0600), like the audit checkpoint key. It proves a manifest came from this deployment; it
 * cannot decrypt anything (age recipients are public keys, their identities live elsewhere).
 */
export function loadBackupSigningKey(config: Pick<Config, 'dataDir' | 'backupSigningKey'>): BackupSigningKey {
  let signerKey = config.backupSigningKey;
  if (!signerKey) {
    const file = path.join(config.dataDir, SIGNING_KEY_FILE);
    if (!existsSync(file)) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, generateBackupSigningKey().signerKey + '\n', { mode: 0o600, flag: 'wx' });
    }
    signerKey = readFileSync(file, 'utf8').trim();
  }
  return backupSigningKey(signerKey);
}

export function backupRecipients(config: Pick<Config, 'backupRecipients'>, override?: readonly string[]): string[] {
  const recipients = override && override.length > 0 ? [...override] : config.backupRecipients;
  if (recipients.length === 0) throw new Error('no backup recipients configured: run `consilium backup keygen` and set CONSILIUM_BACKUP_RECIPIENTS');
  checkRecipients(recipients);
  return recipients;
}
