import { describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.js';
import { NoteError } from './note-error.js';
import type { NoteErrorCode } from './note-error.js';
import { signNote } from './signed-note.js';
import { generateNoteKey, parseSignerKey } from './signer-key.js';
import { parseVerifierKey } from './verifier-key.js';

const ORIGIN = 'consilium.example/audit';
const ROOT = 'pL20bLo7UtqJ48DksnmKbCHorV2gGY91KZf52ZmbSmk=';
const checkpoint: Checkpoint = {
  origin: ORIGIN,
  size: 2 ** 53 - 1,
  rootHash: new Uint8Array(Buffer.from(ROOT, 'base64')),
  extensions: ['ext/a 1', 'ext/b'],
};

function refusal(run: () => unknown): NoteErrorCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof NoteError) return error.code;
    throw error;
  }
}

describe('checkpoints', () => {
  it('round-trips the largest exact size and extension lines', () => {
    const body = formatCheckpoint(checkpoint);
    expect(body).toBe(`${ORIGIN}\n9007199254740991\n${ROOT}\next/a 1\next/b\n`);
    expect(parseCheckpoint(body)).toEqual(checkpoint);
  });

  it.each([
    ['an empty origin', { ...checkpoint, origin: '' }],
    ['a newline in the origin', { ...checkpoint, origin: 'a\nb' }],
    ['a negative size', { ...checkpoint, size: -1 }],
    ['a fractional size', { ...checkpoint, size: 1.5 }],
    ['a size of 2^53', { ...checkpoint, size: 2 ** 53 }],
    ['a 31-byte root', { ...checkpoint, rootHash: new Uint8Array(31) }],
    ['an empty extension line', { ...checkpoint, extensions: [''] }],
    ['a carriage return in an extension', { ...checkpoint, extensions: ['x\r'] }],
  ])('refuses to format %s', (_what, bad) => {
    expect(refusal(() => formatCheckpoint(bad))).toBe('MALFORMED_CHECKPOINT');
  });

  it.each([
    ['no final newline', `${ORIGIN}\n1\n${ROOT}`],
    ['a size of 2^53', `${ORIGIN}\n9007199254740992\n${ROOT}\n`],
    ['a negative size', `${ORIGIN}\n-1\n${ROOT}\n`],
    ['a size in exponent form', `${ORIGIN}\n1e3\n${ROOT}\n`],
    ['a size with spaces', `${ORIGIN}\n 1\n${ROOT}\n`],
    ['a size of 00', `${ORIGIN}\n00\n${ROOT}\n`],
    ['an empty origin', `\n1\n${ROOT}\n`],
    ['a 33-byte root', `${ORIGIN}\n1\n${Buffer.alloc(33).toString('base64')}\n`],
    ['URL-safe base64', `${ORIGIN}\n1\n${'_'.repeat(43)}=\n`],
    ['a root with a space', `${ORIGIN}\n1\n ${ROOT}\n`],
    ['a tab in an extension', `${ORIGIN}\n1\n${ROOT}\nx\ty\n`],
  ])('refuses to parse %s', (_what, text) => {
    expect(refusal(() => parseCheckpoint(text))).toBe('MALFORMED_CHECKPOINT');
  });

  it('parses the empty tree', () => {
    const body = `${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`;
    expect(parseCheckpoint(body).size).toBe(0);
  });

  it('opens a checkpoint only for the origin expected', () => {
    const key = generateNoteKey(ORIGIN);
    const note = signNote(formatCheckpoint(checkpoint), [parseSignerKey(key.signerKey)]);
    const verifiers = [parseVerifierKey(key.verifierKey)];
    expect(openCheckpoint(note, verifiers, ORIGIN).checkpoint).toEqual(checkpoint);
    expect(refusal(() => openCheckpoint(note, verifiers, 'consilium.example/other'))).toBe('ORIGIN_MISMATCH');
  });
});
