import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, openNote, parseSignerKey, parseVerifierKey, signNote } from '@consilium/crypto/note';
import { nativeNoteSigner } from './native-signer.js';

describe('native Ed25519 note signer', () => {
  it('signs exactly as the JavaScript signer does, and its notes verify', () => {
    for (let i = 0; i < 5; i++) {
      const { signerKey, verifierKey } = generateNoteKey('consilium-backup');
      const native = nativeNoteSigner(signerKey);
      const js = parseSignerKey(signerKey);
      expect(native.name).toBe(js.name);
      expect(native.keyId).toBe(js.keyId);
      expect(Buffer.from(native.publicKey)).toEqual(Buffer.from(js.publicKey));
      const message = randomBytes(1000 + i * 100_000);
      expect(Buffer.from(native.sign(message))).toEqual(Buffer.from(js.sign(message)));
      const text = `consilium-backup/v1\n{"n":${i}}\n`;
      const note = signNote(text, [native]);
      expect(note).toBe(signNote(text, [js]));
      expect(openNote(note, [parseVerifierKey(verifierKey)]).text).toBe(text);
    }
  });

  it('refuses a malformed key as the parser does', () => {
    expect(() => nativeNoteSigner('PRIVATE+KEY+x+00000000+AAAA')).toThrow();
  });
});
