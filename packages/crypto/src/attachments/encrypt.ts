import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ATTACHMENT_CHUNK_BYTES, AttachmentDescriptor, type AttachmentContentType } from '@consilium/protocol';
import { bytesOf, pieces, toBase64Url, type ByteSource } from './bytes.js';
import { AttachmentError } from './errors.js';
import { encodeHeader, MAX_CHUNK_BYTES, MAX_CHUNKS, MIN_CHUNK_BYTES, NONCE_PREFIX_BYTES, nonceFor } from './format.js';

const subtle = () => globalThis.crypto.subtle;

export interface AttachmentMeta {
  fileName: string;
  contentType: AttachmentContentType;
  width?: number;
  height?: number;
}

export interface EncryptOptions {
  /** Plaintext bytes per chunk (default 64 KiB). */
  chunkBytes?: number;
  /** Refuse more plaintext than this (the client-side size limit). */
  maxBytes?: number;
}

export interface EncryptedAttachment {
  /** What goes inside the MLS message: the blob id, the key and the checks. */
  descriptor: AttachmentDescriptor;
  /** The ciphertext, as the header and one part per chunk (a Blob or a request body can take them as they are). */
  ciphertext: Uint8Array<ArrayBuffer>[];
  ciphertextBytes: number;
}

/**
 * Encrypts a stream under `rawKey` (32 bytes), yielding the header and then each sealed chunk.
 * The key must be fresh for this file: the nonces are unique only within one file.
 */
export async function* encryptChunks(source: ByteSource, rawKey: Uint8Array, options: EncryptOptions = {}): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const chunkBytes = options.chunkBytes ?? ATTACHMENT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) throw new RangeError(`chunk size must be ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES} bytes`);
  if (rawKey.length !== 32) throw new RangeError('an attachment key is 32 bytes');
  const key = await subtle().importKey('raw', new Uint8Array(rawKey), 'AES-GCM', false, ['encrypt']);
  const header = encodeHeader(chunkBytes, globalThis.crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_BYTES)));
  yield header.bytes;
  let index = 0;
  let total = 0;
  for await (const piece of pieces(bytesOf(source), chunkBytes)) {
    total += piece.bytes.length;
    if (options.maxBytes !== undefined && total > options.maxBytes) throw new AttachmentError('TOO_LARGE', `the file is larger than ${options.maxBytes} bytes`);
    if (index >= MAX_CHUNKS) throw new AttachmentError('TOO_LARGE', 'too many chunks');
    const sealed = await subtle().encrypt({ name: 'AES-GCM', iv: nonceFor(header.noncePrefix, index, piece.last), additionalData: header.bytes, tagLength: 128 }, key, piece.bytes);
    yield new Uint8Array(sealed);
    index++;
  }
}

/**
 * Encrypts one file with a fresh random key and returns its ciphertext and descriptor. The
 * plaintext is read as a stream (one chunk at a time); the ciphertext is kept, since its SHA-256
 * (the blob id, which names the upload) is known only at the end.
 */
export async function encryptAttachment(source: ByteSource, meta: AttachmentMeta, options: EncryptOptions = {}): Promise<EncryptedAttachment> {
  const rawKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const plainHash = sha256.create();
  let size = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const bytes of bytesOf(source)) {
      plainHash.update(bytes);
      size += bytes.length;
      yield bytes;
    }
  }
  const cipherHash = sha256.create();
  const ciphertext: Uint8Array<ArrayBuffer>[] = [];
  let ciphertextBytes = 0;
  try {
    for await (const part of encryptChunks(counted(), rawKey, options)) {
      cipherHash.update(part);
      ciphertext.push(part);
      ciphertextBytes += part.length;
    }
    const descriptor = AttachmentDescriptor.parse({
      blobId: bytesToHex(cipherHash.digest()),
      key: toBase64Url(rawKey),
      size,
      contentType: meta.contentType,
      fileName: meta.fileName,
      sha256: bytesToHex(plainHash.digest()),
      ...(meta.width !== undefined && { width: meta.width }),
      ...(meta.height !== undefined && { height: meta.height }),
    });
    return { descriptor, ciphertext, ciphertextBytes };
  } finally {
    rawKey.fill(0);
  }
}
