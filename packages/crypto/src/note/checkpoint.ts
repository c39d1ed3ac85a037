import { decodeBase64, encodeBase64 } from './base64.js';
import { NoteError } from './note-error.js';
import type { OpenedNote } from './signed-note.js';
import { openNote } from './signed-note.js';
import type { NoteVerifier } from './verifier-key.js';

/** tlog-checkpoint §Note text: a log's tree head, the text of a signed note. */
export interface Checkpoint {
  /** The log's identity, e.g. `example.com/log42`; its key name should be the same. */
  readonly origin: string;
  /** Number of leaves; kept below 2^53 so it stays an exact number. */
  readonly size: number;
  /** RFC 9162 root of the tree of `size` leaves, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Opaque, non-empty lines after the root hash; the spec recommends none. */
  readonly extensions: readonly string[];
}

const ROOT_HASH_SIZE = 32;

/** `origin\nsize\nbase64(root)\n` followed by one line per extension (tlog-checkpoint §Note text). */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  checkLine(origin, 'origin');
  if (!Number.isSafeInteger(size) || size < 0) fail('tree size must be an integer in [0, 2^53)');
  if (rootHash.length !== ROOT_HASH_SIZE) fail(`root hash must be ${ROOT_HASH_SIZE} bytes`);
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
}

/**
 * Parses a checkpoint body (tlog-checkpoint §Note text): at least three non-empty lines, a
 * decimal size without leading zeros, a root hash in canonical padded base64 of 32 bytes.
 * Throws `NoteError` with code `MALFORMED_CHECKPOINT`. Parse only text that `openNote` returned.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) fail('checkpoint does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) fail('checkpoint needs at least 3 lines: origin, tree size, root hash');
  lines.forEach((line, i) => {
    if (line.length === 0) fail(`checkpoint line ${i + 1} is empty`);
    if (/\p{Cc}/u.test(line)) fail(`checkpoint line ${i + 1} holds a control character`);
  });
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  return { origin, size: parseTreeSize(sizeLine), rootHash: parseRootHash(rootLine), extensions };
}

/**
 * Opens a signed checkpoint of the log `origin`: the note must verify with `verifiers`
 * (see `openNote`), its text must parse, and its origin line must be `origin`, so that a key
 * trusted for two logs cannot pass one log's tree head off as the other's.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  origin: string,
): { checkpoint: Checkpoint; note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) {
    throw new NoteError('ORIGIN_MISMATCH', `checkpoint is from ${checkpoint.origin}, not ${origin}`);
  }
  return { checkpoint, note: opened };
}

function parseTreeSize(line: string): number {
  if (!/^[0-9]+$/.test(line)) fail('checkpoint tree size is not a plain decimal number');
  if (line.length > 1 && line.startsWith('0')) fail('checkpoint tree size has a leading zero');
  const size = Number(line);
  if (!Number.isSafeInteger(size)) fail('checkpoint tree size is 2^53 or more');
  return size;
}

function parseRootHash(line: string): Uint8Array {
  if (/^[0-9a-f]{64}$/i.test(line)) fail('checkpoint root hash looks like hex, not base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(line) || line.length % 4 !== 0) {
    fail('checkpoint root hash is not standard padded base64');
  }
  const rootHash = decodeBase64(line);
  if (rootHash === undefined) fail('checkpoint root hash base64 is not canonical');
  if (rootHash.length !== ROOT_HASH_SIZE) fail(`checkpoint root hash is not ${ROOT_HASH_SIZE} bytes`);
  return rootHash;
}

function checkLine(line: string, what: string): void {
  if (line.length === 0 || line.includes('\n') || /\p{Cc}|\p{Cs}/u.test(line)) {
    fail(`${what} must be one non-empty line without control characters`);
  }
}

function fail(message: string): never {
  throw new NoteError('MALFORMED_CHECKPOINT', message);
}
