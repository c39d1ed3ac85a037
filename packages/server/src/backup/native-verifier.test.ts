import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, openNote, parseSignerKey, parseVerifierKey, signNote } from '@consilium/crypto/note';
import { nativeNoteVerifier } from './native-verifier.js';

describe('native Ed25519 note verifier', () => {
  it('accepts what the JavaScript verifier accepts and refuses what it refuses', () => {
    for (let i = 0; i < 5; i++) {
      const { signerKey, verifierKey } = generateNoteKey('consilium-backup');
      const other = generateNoteKey('consilium-backup');
      const native = nativeNoteVerifier(verifierKey);
      const js = parseVerifierKey(verifierKey);
      expect([native.name, native.keyId, Buffer.from(native.publicKey)]).toEqual([js.name, js.keyId, Buffer.from(js.publicKey)]);
      const message = randomBytes(1000 + i * 100_000);
      const signature = parseSignerKey(signerKey).sign(message);
      const altered = Buffer.from(message);
      altered[i]! ^= 1;
      const cut = signature.slice(0, 63);
      const flipped = Buffer.from(signature);
      flipped[10]! ^= 1;
      const foreign = parseSignerKey(other.signerKey).sign(message);
      for (const [m, s, ok] of [
        [message, signature, true],
        [altered, signature, false],
        [message, cut, false],
        [message, flipped, false],
        [message, foreign, false],
      ] as const) {
        expect(native.verify(m, s)).toBe(ok);
        expect(js.verify(m, s)).toBe(ok);
      }
      const text = `consilium-backup/v1\n{"n":${i}}\n`;
      expect(openNote(signNote(text, [parseSignerKey(signerKey)]), [native]).text).toBe(text);
      expect(() => openNote(signNote(text, [parseSignerKey(other.signerKey)]), [native])).toThrow();
    }
  });

  it('refuses a malformed key as the parser does', () => {
    expect(() => nativeNoteVerifier('consilium-backup+00000000+AAAA')).toThrow();
  });
});
