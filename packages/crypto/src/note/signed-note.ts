import { decodeBase64, encodeBase64 } from './base64.js';
import { formatKeyId, isValidKeyName } from './key-id.js';
import { NoteError } from './note-error.js';
import type { NoteSigner } from './signer-key.js';
import type { NoteVerifier } from './verifier-key.js';

/** One signature line of a note: `— <name> base64(key ID || signature)`. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The line's base64 field, key ID included, exactly as it appeared. */
  readonly base64: string;
}

export interface OpenedNote {
  /** The signed text, final newline included, blank line and signatures excluded. */
  readonly text: string;
  /** Signatures by the verifiers given; at least one. */
  readonly verified: readonly NoteSignature[];
  /** Signatures by keys not given (for example witnesses the caller does not track). */
  readonly unverified: readonly NoteSignature[];
}

/** signed-note §Format asks verifiers to accept at least 16; Go's reference stops at 100. */
const MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';
const encoder = new TextEncoder();

/**
 * signed-note §Format: `text`, a blank line, then one line per signer. The text must be
 * non-empty and end in a newline, and contain no control character other than newline.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkCharacters(text);
  if (!text.endsWith('\n')) throw new NoteError('MALFORMED_NOTE', 'note text does not end with a newline');
  if (signers.length === 0) throw new NoteError('MALFORMED_NOTE', 'a note needs at least one signer');
  const message = encoder.encode(text);
  const lines = signers.map((signer) => {
    if (!isValidKeyName(signer.name)) throw new NoteError('MALFORMED_KEY', 'invalid key name');
    if (!Number.isInteger(signer.keyId) || signer.keyId < 0 || signer.keyId > 0xffffffff) {
      throw new NoteError('MALFORMED_KEY', 'key ID is not a uint32');
    }
    const signature = signer.sign(message);
    const payload = new Uint8Array(4 + signature.length);
    new DataView(payload.buffer).setUint32(0, signer.keyId, false);
    payload.set(signature, 4);
    return `${SIGNATURE_PREFIX}${signer.name} ${encodeBase64(payload)}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Opens a signed note (signed-note §Format, §Signatures): refuses any malformed note, ignores
 * signatures by unknown keys (even when they share a name or a key ID, but not both, with a
 * known key), refuses the whole note if a known key's signature fails, and refuses a note no
 * known key signed. Throws `NoteError`; returns the text only when it may be trusted.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const noteText = typeof note === 'string' ? note : decodeUtf8(note);
  checkCharacters(noteText);
  // The text ends at the last blank line, so the text itself may hold blank lines.
  const split = noteText.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('MALFORMED_NOTE', 'note has no blank line before its signatures');
  const text = noteText.slice(0, split + 1);
  const block = noteText.slice(split + 2);
  if (block.length === 0) throw new NoteError('MALFORMED_NOTE', 'nothing follows the last blank line');
  if (!block.endsWith('\n')) throw new NoteError('MALFORMED_NOTE', 'note does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteError('MALFORMED_NOTE', `note has more than ${MAX_SIGNATURES} signatures`);
  }

  const message = encoder.encode(text);
  const verified = new Map<string, NoteSignature>();
  const unverified = new Map<string, NoteSignature>();
  for (const line of lines) {
    const { signature, bytes } = parseSignatureLine(line);
    const candidates = verifiers.filter((v) => v.name === signature.name && v.keyId === signature.keyId);
    if (candidates.length === 0) {
      unverified.set(line, signature);
      continue;
    }
    const keyString = `${signature.name}+${formatKeyId(signature.keyId)}`;
    if (candidates.length > 1) throw new NoteError('AMBIGUOUS_KEY', `ambiguous key ${keyString}`);
    // Every signature by a known key is checked, repeated ones too, though each counts once.
    if (!(candidates[0] as NoteVerifier).verify(message, bytes.subarray(4))) {
      throw new NoteError('INVALID_SIGNATURE', `invalid signature for key ${keyString}`);
    }
    if (!verified.has(keyString)) verified.set(keyString, signature);
  }
  if (verified.size === 0) throw new NoteError('UNVERIFIED_NOTE', 'note has no verifiable signatures');
  return { text, verified: [...verified.values()], unverified: [...unverified.values()] };
}

function parseSignatureLine(line: string): { signature: NoteSignature; bytes: Uint8Array } {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw new NoteError(
      'MALFORMED_NOTE',
      'signature line does not start with an EM DASH (U+2014) and a space',
    );
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const base64 = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(name)) {
    throw new NoteError('MALFORMED_NOTE', 'signature line has an invalid key name');
  }
  const bytes = decodeBase64(base64);
  // Four bytes of key ID and at least one of signature.
  if (bytes === undefined || bytes.length < 5) {
    throw new NoteError(
      'MALFORMED_NOTE',
      'signature is not standard padded base64 of a key ID and a signature',
    );
  }
  const keyId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  return { signature: { name, keyId, base64 }, bytes };
}

/** signed-note §Format: valid UTF-8, and no ASCII control character but newline. */
function checkCharacters(text: string): void {
  if (text.includes('\r')) {
    throw new NoteError('MALFORMED_NOTE', 'note contains a carriage return (CRLF line endings?)');
  }
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) {
    throw new NoteError('MALFORMED_NOTE', 'note contains an ASCII control character other than newline');
  }
  // A lone UTF-16 surrogate has no UTF-8 encoding; TextEncoder would silently replace it.
  if (/\p{Cs}/u.test(text)) throw new NoteError('MALFORMED_NOTE', 'note is not valid UTF-8');
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // ignoreBOM keeps a leading U+FEFF in the text instead of silently dropping signed bytes.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new NoteError('MALFORMED_NOTE', 'note is not valid UTF-8');
  }
}
