import { decodeBase64 } from './base64.js';
import { ED25519_SIGNATURE_TYPE, formatKeyId, isValidKeyName, noteKeyId } from './key-id.js';
import { NoteError } from './note-error.js';

/** Parsing shared by signer and verifier key strings, in the format of Go's sumdb/note. */

/** 0x01 || key: the Ed25519 type byte before a public key (key ID, verifier key) or a seed (signer key). */
export function typedKey(key: Uint8Array): Uint8Array {
  const typed = new Uint8Array(1 + key.length);
  typed[0] = ED25519_SIGNATURE_TYPE;
  typed.set(key, 1);
  return typed;
}

/**
 * Splits `name+hex+base64` on its first `parts - 1` pluses only: the base64 field may hold
 * '+' itself, the name and hex fields never do.
 */
export function splitKeyString(text: string, parts: number): string[] {
  const fields: string[] = [];
  let rest = text;
  for (let i = 1; i < parts; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) throw new NoteError('MALFORMED_KEY', 'key string has too few fields');
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  fields.push(rest);
  return fields;
}

export function decodeKeyField(keyBase64: string): Uint8Array {
  const typed = decodeBase64(keyBase64);
  if (typed === undefined || typed.length === 0) {
    throw new NoteError('MALFORMED_KEY', 'key material is not standard padded base64');
  }
  return typed;
}

/** Checks name and key ID fields; `typedPublicKey` is 0x01 || the public key. */
export function checkKeyId(name: string, keyIdHex: string, typedPublicKey: Uint8Array): number {
  if (!isValidKeyName(name)) throw new NoteError('MALFORMED_KEY', 'invalid key name');
  if (!/^[0-9a-f]{8}$/.test(keyIdHex)) {
    throw new NoteError('MALFORMED_KEY', 'key ID is not 8 lowercase hex digits');
  }
  const keyId = noteKeyId(name, typedPublicKey);
  if (formatKeyId(keyId) !== keyIdHex) {
    throw new NoteError('MALFORMED_KEY', 'key ID does not match the key name and public key');
  }
  return keyId;
}
