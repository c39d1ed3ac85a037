import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';

const KEY_BYTES = 32;

/**
 * The server's own symmetric key: seals secrets the server must read back (TOTP seeds) and keys
 * the hashes of recovery codes, so a stolen database alone yields neither. It lives outside the
 * database (env or a 0600 file) and is never logged or backed up with the data.
 */
export class ServerKey {
  private constructor(private readonly key: Buffer) {}

  static fromConfig(config: Pick<Config, 'secretKey' | 'dataDir'>): ServerKey {
    if (config.secretKey) {
      const key = Buffer.from(config.secretKey, 'base64');
      if (key.length !== KEY_BYTES) throw new Error('CONSILIUM_SECRET_KEY must be 32 bytes, base64-encoded');
      return new ServerKey(key);
    }
    const file = path.join(config.dataDir, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return new ServerKey(key);
  }

  /** AES-256-GCM, 96-bit random nonce; `context` is bound as associated data. Output: v1.nonce.ct.tag */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', nonce.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context: string): string {
    const [version, nonce, ct, tag] = sealed.split('.');
    if (version !== 'v1' || !nonce || ct === undefined || !tag) throw new Error('sealed value is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  mac(value: string, context: string): string {
    return createHmac('sha256', this.key).update(context).update('\0').update(value).digest('base64url');
  }
}
