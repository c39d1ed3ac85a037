import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatVerifierKey, generateNoteKey, parseSignerKey, parseVerifierKey, type NoteSigner, type NoteVerifier } from '@consilium/crypto/note';
import type { Config } from '../config.js';

export interface LogKey {
  signer: NoteSigner;
  verifier: NoteVerifier;
  /** `name+keyid+base64(0x01||pubkey)`: what clients and auditors pin. */
  verifierKey: string;
  /** The deployment's name for its logs; each log's origin line is `${name}/${logId}`. */
  name: string;
}

/** Key name (and origin prefix) from the public URL: `host[:port]/consilium/audit`. */
export function logKeyName(config: Pick<Config, 'publicUrl'>): string {
  return `${new URL(config.publicUrl).host}/consilium/audit`;
}

export const originOf = (key: Pick<LogKey, 'name'>, logId: string) => `${key.name}/${logId}`;

/**
 * The Ed25519 key that signs checkpoints (C2SP signed-note signer key string). From the config,
 * or created once in the data directory (0600). The private key never leaves the server.
 */
export function loadLogKey(config: Pick<Config, 'publicUrl' | 'dataDir' | 'auditSigningKey'>): LogKey {
  let signerKey = config.auditSigningKey;
  if (!signerKey) {
    const file = path.join(config.dataDir, 'audit-signing.key');
    if (!existsSync(file)) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, generateNoteKey(logKeyName(config)).signerKey + '\n', { mode: 0o600, flag: 'wx' });
    }
    signerKey = readFileSync(file, 'utf8').trim();
  }
  const signer = parseSignerKey(signerKey);
  const verifierKey = formatVerifierKey(signer.name, signer.publicKey);
  return { signer, verifier: parseVerifierKey(verifierKey), verifierKey, name: signer.name };
}
