import { describe, expect, it } from 'vitest';
import { NoteError } from './note-error.js';
import type { NoteErrorCode } from './note-error.js';
import { openNote, signNote } from './signed-note.js';
import type { NoteSigner } from './signer-key.js';
import { generateNoteKey, parseSignerKey } from './signer-key.js';
import { parseVerifierKey } from './verifier-key.js';

/** The example in c2sp.org/signed-note §Verifier keys. */
const SPEC_VERIFIER_KEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

const alice = generateNoteKey('example.com/alice');
const aliceSigner = parseSignerKey(alice.signerKey);
const aliceVerifier = parseVerifierKey(alice.verifierKey);
const bob = generateNoteKey('example.com/bob');
const bobSigner = parseSignerKey(bob.signerKey);
const bobVerifier = parseVerifierKey(bob.verifierKey);
const TEXT = 'consilium.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
const signed = signNote(TEXT, [aliceSigner]);
const aliceLine = signed.slice(TEXT.length + 1);

function refusal(run: () => unknown): NoteErrorCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof NoteError) return error.code;
    throw error;
  }
}

/** A signer under alice's name and key ID that signs with bob's key: a forged signature. */
const forger: NoteSigner = { ...bobSigner, name: aliceSigner.name, keyId: aliceSigner.keyId };

describe('openNote', () => {
  it('verifies the example of the signed-note spec', () => {
    const opened = openNote(SPEC_NOTE, [parseVerifierKey(SPEC_VERIFIER_KEY)]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified).toHaveLength(1);
  });

  it('round-trips what signNote makes, with text that holds blank lines', () => {
    const text = 'first\n\nthird, after an empty line\n';
    const note = signNote(text, [aliceSigner, bobSigner]);
    const opened = openNote(note, [aliceVerifier, bobVerifier]);
    expect(opened.text).toBe(text);
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/alice', 'example.com/bob']);
  });

  it('ignores keys sharing only the name or only the key ID with a known key', () => {
    const sameName = parseSignerKey(generateNoteKey('example.com/alice').signerKey);
    const sameId: NoteSigner = { ...bobSigner, keyId: aliceSigner.keyId };
    const note = signNote(TEXT, [sameName, sameId, aliceSigner]);
    const opened = openNote(note, [aliceVerifier]);
    expect(opened.verified).toHaveLength(1);
    expect(opened.unverified).toHaveLength(2);
    expect(refusal(() => openNote(signNote(TEXT, [sameName, sameId]), [aliceVerifier]))).toBe('UNVERIFIED_NOTE');
  });

  it('refuses a note when any signature by a known key fails, even beside a good one', () => {
    const forged = signNote(TEXT, [forger]).slice(TEXT.length + 1);
    expect(refusal(() => openNote(signed + forged, [aliceVerifier]))).toBe('INVALID_SIGNATURE');
    expect(refusal(() => openNote(`${TEXT}\n${forged}`, [aliceVerifier]))).toBe('INVALID_SIGNATURE');
  });

  it('counts a repeated signature once', () => {
    expect(openNote(signed + aliceLine, [aliceVerifier]).verified).toHaveLength(1);
  });

  it('refuses two verifiers with the same name and key ID', () => {
    const twin = { ...bobVerifier, name: aliceVerifier.name, keyId: aliceVerifier.keyId };
    expect(refusal(() => openNote(signed, [aliceVerifier, twin]))).toBe('AMBIGUOUS_KEY');
  });

  it('accepts 16 signatures and refuses more than 100', () => {
    const others = Array.from({ length: 15 }, (_, i) => parseSignerKey(generateNoteKey(`w${i}.example`).signerKey));
    expect(openNote(signNote(TEXT, [...others, aliceSigner]), [aliceVerifier]).unverified).toHaveLength(15);
    expect(refusal(() => openNote(signed + aliceLine.repeat(100), [aliceVerifier]))).toBe('MALFORMED_NOTE');
  });

  it('reads bytes as strict UTF-8 and keeps a byte order mark as signed text', () => {
    const bytes = new TextEncoder().encode(signed);
    expect(openNote(bytes, [aliceVerifier]).text).toBe(TEXT);
    const invalid = new Uint8Array([...bytes.subarray(0, 3), 0xff, ...bytes.subarray(3)]);
    expect(refusal(() => openNote(invalid, [aliceVerifier]))).toBe('MALFORMED_NOTE');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]);
    expect(refusal(() => openNote(bom, [aliceVerifier]))).toBe('INVALID_SIGNATURE');
    const signedWithBom = signNote(`\ufeff${TEXT}`, [aliceSigner]);
    expect(openNote(new TextEncoder().encode(signedWithBom), [aliceVerifier]).text).toBe(`\ufeff${TEXT}`);
  });

  it.each([
    ['a tab in the text', signed.replace('\n3\n', '\n3\t\n')],
    ['a NUL in the text', signed.replace('\n3\n', '\n3\u0000\n')],
    ['a lone surrogate', signed.replace('\n3\n', '\n3\ud800\n')],
    ['a carriage return in a signature line', signed.replace(/\n$/, '\r\n')],
    ['no signature lines', `${TEXT}\n`],
    ['an empty signature line', `${signed}\n`],
    ['a signature line without a signature', `${TEXT}\n\u2014 example.com/alice\n`],
    ['two spaces after the key name', signed.replace('alice ', 'alice  ')],
    ['a key name with a plus', signed.replace('example.com/alice', 'example.com+alice')],
    ['a key name with a no-break space', signed.replace('example.com/alice', 'example.com/\u00a0alice')],
    ['an empty key name', signed.replace('\u2014 example.com/alice', '\u2014 ')],
    ['unpadded base64', signed.replace(/=\n$/, '\n')],
    // The key is random per run, so its signature may hold no + or /: put a URL-safe character in for sure.
    ['URL-safe base64', signed.replace(/(\u2014 example\.com\/alice )./, '$1-').replace(/[+/]/g, (c) => (c === '+' ? '-' : '_'))],
    ['a signature of four bytes', `${TEXT}\n\u2014 example.com/alice AAAAAA==\n`],
    ['an en dash', signed.replace('\u2014', '\u2013')],
    ['no space after the dash', signed.replace('\u2014 ', '\u2014')],
  ])('refuses a note with %s', (_what, note) => {
    expect(refusal(() => openNote(note, [aliceVerifier]))).toBe('MALFORMED_NOTE');
  });

  it('refuses a known key signature of the wrong length as invalid', () => {
    const short = aliceLine.replace(/ ([^ ]*)\n$/, (_m, b64: string) => {
      const bytes = Buffer.from(b64, 'base64').subarray(0, 67);
      return ` ${bytes.toString('base64')}\n`;
    });
    expect(refusal(() => openNote(`${TEXT}\n${short}`, [aliceVerifier]))).toBe('INVALID_SIGNATURE');
  });
});

describe('signNote', () => {
  it.each([
    ['text without a final newline', 'no newline'],
    ['empty text', ''],
    ['a carriage return', 'line\r\n'],
    ['a control character', 'bell\u0007\n'],
    ['a lone surrogate', 'half \udc00\n'],
  ])('refuses %s', (_what, text) => {
    expect(refusal(() => signNote(text, [aliceSigner]))).toBe('MALFORMED_NOTE');
  });

  it('refuses to sign with no signer, or with a signer whose name is invalid', () => {
    expect(refusal(() => signNote(TEXT, []))).toBe('MALFORMED_NOTE');
    expect(refusal(() => signNote(TEXT, [{ ...aliceSigner, name: 'two words' }]))).toBe('MALFORMED_KEY');
    expect(refusal(() => signNote(TEXT, [{ ...aliceSigner, keyId: 2 ** 32 }]))).toBe('MALFORMED_KEY');
  });
});
