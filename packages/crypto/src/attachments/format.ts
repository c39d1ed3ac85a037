/**
 * The attachment ciphertext format, `consilium-attachment v1`.
 *
 * A file is encrypted with a fresh random 256-bit key of its own (never reused for another file)
 * under AES-256-GCM (NIST SP 800-38D), cut into chunks with the STREAM construction of
 * Hoang, Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
 * Misuse-Resistance" (CRYPTO 2015), as Tink's AES-GCM-HKDF streaming AEAD and the C2SP age
 * payload use it. Since each file has its own key, no per-file key derivation (Tink's HKDF) is
 * needed; the nonce prefix is random all the same.
 *
 * Layout (all integers big-endian):
 *
 *   header  = magic "CNSA" (4 bytes) || version 0x01 (1) || chunkBytes (u32, 4) || noncePrefix (7)
 *   chunk_i = AES-256-GCM-Seal(key, nonce_i, plaintext_i, aad = header)   (plaintext_i || 16-byte tag)
 *   nonce_i = noncePrefix (7) || i (u32, 4) || lastFlag (1: 0x01 for the final chunk, else 0x00)
 *   file    = header || chunk_0 || chunk_1 || ... || chunk_n
 *
 * Every chunk but the last holds exactly `chunkBytes` plaintext bytes; the last holds 1 to
 * `chunkBytes` bytes, or 0 bytes only when the whole file is empty (then it is the only chunk).
 * Because the chunk index and the final flag are inside the nonce, and the header is the
 * associated data of every chunk:
 * - reordering or duplicating chunks fails (index mismatch),
 * - truncating at a chunk boundary fails (the new last chunk was sealed with lastFlag 0),
 * - appending fails (the old last chunk was sealed with lastFlag 1),
 * - changing the header (chunk size, prefix, version) fails every chunk.
 * The blob id is SHA-256 over the whole file (content address); the descriptor also carries
 * SHA-256 of the plaintext, checked after decryption.
 */
export const MAGIC = new Uint8Array([0x43, 0x4e, 0x53, 0x41]); // "CNSA"
export const VERSION = 1;
export const HEADER_BYTES = 16;
export const TAG_BYTES = 16;
export const NONCE_PREFIX_BYTES = 7;
/** Chunk sizes a reader accepts: bounds the memory one chunk can take. */
export const MIN_CHUNK_BYTES = 64;
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
/** The u32 chunk counter must not wrap. */
export const MAX_CHUNKS = 2 ** 32;

export interface Header {
  chunkBytes: number;
  noncePrefix: Uint8Array;
  /** The exact 16 header bytes (the associated data of every chunk). */
  bytes: Uint8Array<ArrayBuffer>;
}

export function encodeHeader(chunkBytes: number, noncePrefix: Uint8Array): Header {
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes.set(MAGIC, 0);
  bytes[4] = VERSION;
  new DataView(bytes.buffer).setUint32(5, chunkBytes);
  bytes.set(noncePrefix, 9);
  return { chunkBytes, noncePrefix: bytes.slice(9), bytes };
}

export function nonceFor(noncePrefix: Uint8Array, index: number, last: boolean): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) throw new RangeError('chunk counter out of range');
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}
