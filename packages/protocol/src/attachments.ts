import { z } from 'zod';
import { Id, Timestamp } from './common.js';

/**
 * Attachments ("media vault"): files are encrypted on the device with a fresh key per file
 * (packages/crypto/src/attachments), the ciphertext is uploaded to a content-addressed blob store,
 * and the key travels inside the MLS message as an `AttachmentDescriptor`. The server sees only
 * the ciphertext, its size, its SHA-256 (the blob id), the declared content type and which
 * conversation it was uploaded for.
 */

/** Default per-file limit (plaintext bytes); the server's limit is configurable (attachmentMaxBytes). */
export const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;
/** Most attachments one message carries. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Plaintext bytes per encrypted chunk (the last chunk may be shorter). */
export const ATTACHMENT_CHUNK_BYTES = 64 * 1024;
/** Bytes of the ciphertext header: magic (4), version (1), chunk size (4), nonce prefix (7). */
export const ATTACHMENT_HEADER_BYTES = 16;
/** AES-GCM tag bytes appended to every chunk. */
export const ATTACHMENT_TAG_BYTES = 16;

/** Size of the ciphertext of `plaintextBytes` bytes (an empty file still has one, empty, final chunk). */
export function attachmentCiphertextBytes(plaintextBytes: number, chunkBytes: number = ATTACHMENT_CHUNK_BYTES): number {
  const chunks = Math.max(1, Math.ceil(plaintextBytes / chunkBytes));
  return ATTACHMENT_HEADER_BYTES + plaintextBytes + chunks * ATTACHMENT_TAG_BYTES;
}

/**
 * Content types a client may declare. Images that can carry EXIF/GPS are re-encoded by the
 * client before encryption; documents are sent as they are.
 */
export const attachmentContentTypes = [
  'image/jpeg',
  'image/png',
  'image/heic',
  'image/webp',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
] as const;
export const AttachmentContentType = z.enum(attachmentContentTypes);
export type AttachmentContentType = z.infer<typeof AttachmentContentType>;

/** A blob id: lowercase hex SHA-256 of the ciphertext (its content address). */
export const BlobId = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
export type BlobId = z.infer<typeof BlobId>;

/** Unpadded base64url (RFC 4648 §5) of a 32-byte AES-256 key. */
export const AttachmentKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'base64url of 32 bytes');

/**
 * What the sender puts inside the (MLS-encrypted) message so receivers can fetch, decrypt and
 * check a file. Never sent to the server in clear.
 */
export const AttachmentDescriptor = z.strictObject({
  blobId: BlobId,
  key: AttachmentKey,
  /** Plaintext bytes. */
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  contentType: AttachmentContentType,
  fileName: z.string().min(1).max(255),
  /** Lowercase hex SHA-256 of the plaintext. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Pixel size of an image, for layout before it is decrypted. */
  width: z.number().int().positive().max(100_000).optional(),
  height: z.number().int().positive().max(100_000).optional(),
});
export type AttachmentDescriptor = z.infer<typeof AttachmentDescriptor>;

export const BlobParams = z.strictObject({ blobId: BlobId });

/** PUT /attachments/:blobId?conversationId&contentType with the ciphertext as an application/octet-stream body. */
export const UploadAttachmentQuery = z.strictObject({
  /** The conversation the message carrying the key goes to; the uploader must be a current member. */
  conversationId: Id,
  /** The declared type of the plaintext (checked against the allowlist). */
  contentType: AttachmentContentType,
  /**
   * `on-send`: the upload stays pending until a message sent to the conversation names it in
   * `attachmentIds` (SubmitMessageBody); one left pending longer than the server's
   * attachmentPendingHours (default 24) is deleted. Without it (clients before this rule) the
   * upload counts as confirmed at once and is kept like any attachment of the conversation.
   */
  confirm: z.enum(['on-send']).optional(),
});
export type UploadAttachmentQuery = z.infer<typeof UploadAttachmentQuery>;

export const UploadedAttachment = z.strictObject({
  blobId: BlobId,
  conversationId: Id,
  /** Ciphertext bytes stored. */
  size: z.number().int().nonnegative(),
  /** False when the blob was already stored (the upload was checked and linked, not written again). */
  created: z.boolean(),
  uploadedAt: Timestamp,
  /** Only for a pending upload (`confirm=on-send`): a message naming it must be sent before this time, or it is deleted. */
  confirmBy: Timestamp.optional(),
});
export type UploadedAttachment = z.infer<typeof UploadedAttachment>;

/**
 * DELETE /conversations/:id/messages/:seq?attachments=<blobId>,<blobId>: the sender recalls a
 * message and names the attachments it carried (the server cannot read the message to find them),
 * so their blobs are deleted with it. Only the caller's own uploads to that conversation are affected.
 */
export const RecallMessageQuery = z.strictObject({
  attachments: z
    .string()
    .regex(/^[0-9a-f]{64}(,[0-9a-f]{64}){0,19}$/, 'a comma-separated list of up to 20 blob ids (lowercase hex SHA-256)')
    .optional(),
});
export type RecallMessageQuery = z.infer<typeof RecallMessageQuery>;

/**
 * The blobs an application message carries, as the sender names them beside the ciphertext (the
 * server cannot read the message): sending it confirms their pending uploads to the conversation.
 * Each must be linked to the conversation (uploaded for it), else the send is refused (NOT_FOUND).
 */
export const MessageAttachmentIds = z
  .array(BlobId)
  .max(MAX_ATTACHMENTS_PER_MESSAGE)
  .refine((ids) => new Set(ids).size === ids.length, 'each blob id once');

/** GET /attachments/:blobId: the conversation whose message the caller opens it from (for the audit entry). */
export const DownloadAttachmentQuery = z.strictObject({ conversationId: Id.optional() });
export type DownloadAttachmentQuery = z.infer<typeof DownloadAttachmentQuery>;

/** The caller saves a decrypted copy outside the app (written to the audit log before it happens). */
export const ExportAttachmentBody = z.strictObject({ conversationId: Id });
export type ExportAttachmentBody = z.infer<typeof ExportAttachmentBody>;

/**
 * The plaintext of an MLS application message. Version 0 was bare UTF-8 text, and a message
 * whose plaintext is not a v1 envelope is still read as text, so older messages keep working.
 */
export const MESSAGE_CONTENT_TYPE = 'consilium.message.v1';
export const MessageContent = z.strictObject({
  $type: z.literal(MESSAGE_CONTENT_TYPE),
  text: z.string().max(10_000),
  attachments: z.array(AttachmentDescriptor).max(MAX_ATTACHMENTS_PER_MESSAGE).default([]),
});
export type MessageContent = z.infer<typeof MessageContent>;

/** Text-only messages stay bare UTF-8 (readable by older clients); anything else is a v1 envelope. */
export function encodeMessageContent(content: { text: string; attachments?: AttachmentDescriptor[] }): string {
  const attachments = content.attachments ?? [];
  if (attachments.length === 0) return content.text;
  return JSON.stringify({ $type: MESSAGE_CONTENT_TYPE, text: content.text, attachments } satisfies MessageContent);
}

export function decodeMessageContent(plaintext: string): { text: string; attachments: AttachmentDescriptor[] } {
  if (plaintext.startsWith('{') && plaintext.includes(MESSAGE_CONTENT_TYPE)) {
    let json: unknown;
    try {
      json = JSON.parse(plaintext);
    } catch {
      return { text: plaintext, attachments: [] };
    }
    const parsed = MessageContent.safeParse(json);
    if (parsed.success) return { text: parsed.data.text, attachments: parsed.data.attachments };
  }
  return { text: plaintext, attachments: [] };
}
