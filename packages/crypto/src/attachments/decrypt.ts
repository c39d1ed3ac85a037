import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { AttachmentDescriptor } from '@consilium/protocol';
import { bytesOf, fromBase64Url, pieces, type ByteSource } from './bytes.js';
import { AttachmentError } from './errors.js';
import { HEADER_BYTES, MAGIC, MAX_CHUNK_BYTES, MAX_CHUNKS, MIN_CHUNK_BYTES, nonceFor, TAG_BYTES, VERSION, type Header } from './format.js';

const subtle = () => globalThis.crypto.subtle;

function parseHeader(bytes: Uint8Array): Header {
  if (bytes.length < HEADER_BYTES) throw new AttachmentError('TRUNCATED', 'the file ends inside its header');
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new AttachmentError('MALFORMED', 'not a Consilium attachment');
  if (bytes[4] !== VERSION) throw new AttachmentError('MALFORMED', `unsupported attachment version ${bytes[4]}`);
  const chunkBytes = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES).getUint32(5);
  if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) throw new AttachmentError('MALFORMED', `chunk size ${chunkBytes} out of range`);
  const header = new Uint8Array(bytes.subarray(0, HEADER_BYTES));
  return { chunkBytes, noncePrefix: header.slice(9), bytes: header };
}

/** Splits off the 16 header bytes; yields the header, then the rest of the stream as it comes. */
async function* withHeader(source: AsyncIterable<Uint8Array>, onHeader: (h: Header) => void, onBytes: (b: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  let head = new Uint8Array(0);
  let seen = false;
  for await (const input of source) {
    onBytes(input);
    if (seen) {
      yield input;
      continue;
    }
    const joined = new Uint8Array(head.length + input.length);
    joined.set(head);
    joined.set(input, head.length);
    head = joined;
    if (head.length >= HEADER_BYTES) {
      onHeader(parseHeader(head));
      seen = true;
      if (head.length > HEADER_BYTES) yield head.subarray(HEADER_BYTES);
    }
  }
  if (!seen) onHeader(parseHeader(head));
}

/**
 * Decrypts a `consilium-attachment v1` stream, yielding plaintext chunk by chunk. Each yielded
 * chunk is authenticated, but the whole file is only known complete and matching `descriptor`
 * when the generator finishes without throwing: callers that stream must discard what they got
 * if it throws. Checks at the end: no truncation, ciphertext SHA-256 = blobId, plaintext SHA-256
 * and size = the descriptor's.
 */
export async function* decryptChunks(source: ByteSource, descriptor: Pick<AttachmentDescriptor, 'blobId' | 'key' | 'size' | 'sha256'>): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const rawKey = fromBase64Url(descriptor.key);
  if (rawKey.length !== 32) throw new AttachmentError('MALFORMED', 'an attachment key is 32 bytes');
  const key = await subtle().importKey('raw', rawKey, 'AES-GCM', false, ['decrypt']);
  rawKey.fill(0);
  const cipherHash = sha256.create();
  const plainHash = sha256.create();
  let header: Header | undefined;
  let size = 0;
  // The chunk size is known only once the header is read: cut the body lazily.
  const body = withHeader(
    bytesOf(source),
    (h) => (header = h),
    (b) => cipherHash.update(b),
  );
  const first = await body.next();
  if (!header) throw new AttachmentError('TRUNCATED', 'the file ends inside its header');
  const h: Header = header;
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (!first.done) yield first.value;
    yield* body;
  }
  let index = 0;
  for await (const piece of pieces(rest(), h.chunkBytes + TAG_BYTES)) {
    if (piece.bytes.length < TAG_BYTES) throw new AttachmentError(piece.last ? 'TRUNCATED' : 'MALFORMED', 'the file ends inside a chunk');
    if (index >= MAX_CHUNKS) throw new AttachmentError('MALFORMED', 'too many chunks');
    let plain: ArrayBuffer;
    try {
      plain = await subtle().decrypt({ name: 'AES-GCM', iv: nonceFor(h.noncePrefix, index, piece.last), additionalData: h.bytes, tagLength: 128 }, key, piece.bytes);
    } catch {
      throw new AttachmentError('AUTHENTICATION_FAILED', `chunk ${index} does not authenticate (tampered, reordered, truncated or the wrong key)`);
    }
    // An empty final chunk is only valid as the single chunk of an empty file (one encoding per file).
    if (plain.byteLength === 0 && index > 0) throw new AttachmentError('MALFORMED', 'empty final chunk after other chunks');
    const bytes = new Uint8Array(plain);
    plainHash.update(bytes);
    size += bytes.length;
    if (size > descriptor.size) throw new AttachmentError('DESCRIPTOR_MISMATCH', 'more plaintext than the descriptor says');
    yield bytes;
    index++;
  }
  if (bytesToHex(cipherHash.digest()) !== descriptor.blobId) throw new AttachmentError('DESCRIPTOR_MISMATCH', 'the ciphertext is not the blob the descriptor names');
  if (size !== descriptor.size || bytesToHex(plainHash.digest()) !== descriptor.sha256) throw new AttachmentError('DESCRIPTOR_MISMATCH', 'the plaintext does not match the descriptor');
}

/** Decrypts a whole attachment into memory and checks it against its descriptor. */
export async function decryptAttachment(source: ByteSource, descriptor: Pick<AttachmentDescriptor, 'blobId' | 'key' | 'size' | 'sha256'>): Promise<Uint8Array<ArrayBuffer>> {
  // Collected in parts, not pre-allocated from the (sender-chosen) descriptor size.
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of decryptChunks(source, descriptor)) {
    parts.push(chunk);
    total += chunk.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
