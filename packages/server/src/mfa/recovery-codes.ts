import { randomInt, randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { RecoveryCodeTable } from '../db/schema/mfa.js';
import type { ServerKey } from '../secrets/server-key.js';

// 10 characters from a 32-letter alphabet without look-alikes (0/o, 1/l): 50 bits each.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;
const MAC_CONTEXT = 'recovery-code';

export function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** Shown to the user as xxxxx-xxxxx. */
export const formatRecoveryCode = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;

export function recoveryCodeHash(key: ServerKey, accountId: string, normalisedCode: string): string {
  return key.mac(`${accountId}:${normalisedCode}`, MAC_CONTEXT);
}

export function newRecoveryCodeSet(key: ServerKey, accountId: string, at: string) {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const rows: Insertable<RecoveryCodeTable>[] = codes.map((code) => ({
    id: randomUUID(),
    account_id: accountId,
    code_hash: recoveryCodeHash(key, accountId, code),
    used_at: null,
    created_at: at,
  }));
  return { display: codes.map(formatRecoveryCode), rows };
}
