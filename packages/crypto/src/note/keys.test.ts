import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from './base64.js';
import { formatKeyId, noteKeyId } from './key-id.js';
import { NoteError } from './note-error.js';
import type { NoteErrorCode } from './note-error.js';
import { formatSignerKey, generateNoteKey, parseSignerKey } from './signer-key.js';
import { formatVerifierKey, parseVerifierKey } from './verifier-key.js';

/** A fresh key pair whose key ID holds a letter, so that upper-casing it changes it (about 2% of IDs are all digits). */
function keyWithLetterInId(): ReturnType<typeof generateNoteKey> {
  for (;;) {
    const key = generateNoteKey('example.com/log');
    if (/[a-f]/.test(key.verifierKey.split('+')[1] ?? '')) return key;
  }
}
const { signerKey, verifierKey } = keyWithLetterInId();
const [, keyIdHex = '', keyBase64 = ''] = /^[^+]+\+([0-9a-f]{8})\+(.+)$/.exec(verifierKey) ?? [];

function refusal(run: () => unknown): NoteErrorCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof NoteError) return error.code;
    throw error;
  }
}

/** A type byte and `length` key bytes. */
function typed(type: number, length: number, fill = 9): Uint8Array {
  return new Uint8Array([type, ...new Uint8Array(length).fill(fill)]);
}

/** A verifier key string with a correct key ID for any type byte and key bytes. */
function keyString(name: string, typed: Uint8Array): string {
  return `${name}+${formatKeyId(noteKeyId(name, typed))}+${encodeBase64(typed)}`;
}

describe('note keys', () => {
  it('generates a pair whose halves match', () => {
    const signer = parseSignerKey(signerKey);
    const verifier = parseVerifierKey(verifierKey);
    expect(verifier.publicKey).toEqual(signer.publicKey);
    expect(verifier.keyId).toBe(signer.keyId);
    expect(verifier.verify(new Uint8Array([1]), signer.sign(new Uint8Array([1])))).toBe(true);
    expect(verifier.verify(new Uint8Array([2]), signer.sign(new Uint8Array([1])))).toBe(false);
  });

  it.each([
    ['a wrong key ID', verifierKey.replace(`+${keyIdHex}+`, '+00000000+'), 'MALFORMED_KEY'],
    ['an upper-case key ID', verifierKey.replace(`+${keyIdHex}+`, `+${keyIdHex.toUpperCase()}+`), 'MALFORMED_KEY'],
    ['a short key ID', verifierKey.replace(`+${keyIdHex}+`, `+${keyIdHex.slice(1)}+`), 'MALFORMED_KEY'],
    ['no key', `example.com/log+${keyIdHex}`, 'MALFORMED_KEY'],
    ['an empty name', `+${keyIdHex}+${keyBase64}`, 'MALFORMED_KEY'],
    ['truncated base64', verifierKey.slice(0, -1), 'MALFORMED_KEY'],
    ['URL-safe base64', keyString('example.com/log', typed(1, 32, 0xfb)).replace(/[+/]/g, '_'), 'MALFORMED_KEY'],
    ['a name with a space', keyString('example.com/a log', typed(1, 32)), 'MALFORMED_KEY'],
    ['signature type 0x02', keyString('example.com/log', typed(2, 32)), 'UNSUPPORTED_KEY_TYPE'],
    ['a 31-byte key', keyString('example.com/log', typed(1, 31)), 'MALFORMED_KEY'],
    ['a signer key', signerKey, 'MALFORMED_KEY'],
  ])('refuses a verifier key with %s', (_what, key, code) => {
    expect(refusal(() => parseVerifierKey(key))).toBe(code);
  });

  it('refuses a verifier key that is not a curve point', () => {
    let notAPoint = new Uint8Array(32);
    for (let i = 2; ed25519.utils.isValidPublicKey(notAPoint, false); i++) notAPoint = new Uint8Array(32).fill(i);
    expect(refusal(() => parseVerifierKey(keyString('example.com/log', new Uint8Array([1, ...notAPoint]))))).toBe(
      'MALFORMED_KEY',
    );
    expect(refusal(() => formatVerifierKey('example.com/log', new Uint8Array(31)))).toBe('MALFORMED_KEY');
  });

  it.each([
    ['no PRIVATE+KEY prefix', signerKey.replace('PRIVATE+KEY+', '')],
    ['a lower-case prefix', signerKey.replace('PRIVATE+KEY+', 'private+key+')],
    ['the key ID of another key', signerKey.replace(`+${keyIdHex}+`, '+00000000+')],
    ['a verifier key', verifierKey],
  ])('refuses a signer key with %s', (_what, key) => {
    expect(refusal(() => parseSignerKey(key))).toBe('MALFORMED_KEY');
  });

  it('formats a signer key that parses back to the same public key', () => {
    const seed = new Uint8Array(32).fill(7);
    const signer = parseSignerKey(formatSignerKey('example.com/seven', seed));
    expect(signer.publicKey).toEqual(ed25519.getPublicKey(seed));
    expect(refusal(() => formatSignerKey('example.com/seven', new Uint8Array(16)))).toBe('MALFORMED_KEY');
  });
});
