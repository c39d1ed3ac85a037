import { createHash, randomBytes } from 'node:crypto';

/** 256-bit random token, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are stored only as their SHA-256, so a database reader cannot replay them. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
