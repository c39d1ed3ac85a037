/** Why an attachment could not be encrypted or decrypted. Codes are only ever added. */
export type AttachmentErrorCode =
  /** Not a `consilium-attachment v1` file (magic, version, chunk size). */
  | 'MALFORMED'
  /** A chunk failed AES-GCM authentication: tampered, reordered, truncated at a boundary, or the wrong key. */
  | 'AUTHENTICATION_FAILED'
  /** The file ends inside the header or inside a chunk, or has chunks after its final one. */
  | 'TRUNCATED'
  /** Decrypted fine, but the ciphertext or plaintext does not match the descriptor (id, SHA-256 or size). */
  | 'DESCRIPTOR_MISMATCH'
  /** More plaintext than the caller allows. */
  | 'TOO_LARGE';

export class AttachmentError extends Error {
  override readonly name = 'AttachmentError';
  constructor(
    readonly code: AttachmentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const isAttachmentError = (error: unknown): error is AttachmentError => error instanceof AttachmentError;
