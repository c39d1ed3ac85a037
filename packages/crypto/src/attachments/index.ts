/**
 * Attachment encryption ("media vault"): a fresh AES-256-GCM key per file, chunked with the
 * STREAM construction so large files stream; the format is defined in format.ts.
 */
export { encryptAttachment, encryptChunks, type AttachmentMeta, type EncryptedAttachment, type EncryptOptions } from './encrypt.js';
export { decryptAttachment, decryptChunks } from './decrypt.js';
export { AttachmentError, isAttachmentError, type AttachmentErrorCode } from './errors.js';
export { bytesOf, toBase64Url, fromBase64Url, type ByteSource } from './bytes.js';
export { HEADER_BYTES as ATTACHMENT_FORMAT_HEADER_BYTES, TAG_BYTES as ATTACHMENT_FORMAT_TAG_BYTES } from './format.js';
