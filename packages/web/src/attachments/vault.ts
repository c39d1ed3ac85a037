/**
 * The media vault on this device: prepares a file (images lose their metadata and get the
 * user's crop and blur), encrypts it with a fresh key, uploads the ciphertext, and returns the
 * descriptor that goes inside the MLS message. Received attachments are decrypted into memory
 * and shown from blob: URLs; nothing is written to disk unless the user exports (audited).
 */
import { decryptAttachment, encryptAttachment } from '@consilium/crypto/attachments';
import { MAX_ATTACHMENT_BYTES, type AttachmentContentType, type AttachmentDescriptor, type Ok, type UploadedAttachment } from '@consilium/protocol';
import { binary, http, segment } from '../api/client';
import { sanitiseImage, type ImageEdits } from './sanitise-image';
import { assertSize, contentTypeOf, isImageType } from './file-types';

const renamed = (name: string, type: 'image/jpeg' | 'image/png') => `${name.replace(/\.[^.]*$/, '') || 'photo'}.${type === 'image/png' ? 'png' : 'jpg'}`;

/**
 * Encrypts and uploads one file for a conversation; returns the descriptor for the message.
 * Images are re-encoded first (no EXIF, GPS, XMP; crop and blur applied).
 */
export async function sendAttachment(conversationId: string, file: File, edits?: ImageEdits): Promise<AttachmentDescriptor> {
  const type = contentTypeOf(file);
  assertSize(file.size);
  let source: Blob = file;
  let meta: { fileName: string; contentType: AttachmentContentType; width?: number; height?: number } = { fileName: file.name.slice(0, 255) || 'file', contentType: type };
  if (isImageType(type)) {
    const clean = await sanitiseImage(file, edits);
    source = new Blob([clean.bytes], { type: clean.contentType });
    meta = { fileName: renamed(file.name, clean.contentType).slice(0, 255), contentType: clean.contentType, width: clean.width, height: clean.height };
  }
  const { descriptor, ciphertext } = await encryptAttachment(source, meta, { maxBytes: MAX_ATTACHMENT_BYTES });
  // Pending until the message carrying its key is sent (the engine names it in attachmentIds); an
  // upload whose message never goes out (crash, cancelled send) is deleted by the server after a day.
  const query = `conversationId=${segment(conversationId)}&contentType=${encodeURIComponent(descriptor.contentType)}&confirm=on-send`;
  await binary.putBytes<UploadedAttachment>(`/attachments/${segment(descriptor.blobId)}?${query}`, new Blob(ciphertext, { type: 'application/octet-stream' }));
  // The sender shows what it sent (the cleaned image) without fetching it back.
  const sent = new Blob([source], { type: descriptor.contentType });
  opened.set(cacheKey(descriptor), Promise.resolve({ blob: sent, url: URL.createObjectURL(sent) }));
  return descriptor;
}

interface Opened {
  blob: Blob;
  url: string;
}

/** Decrypted attachments of this session, in memory only; dropped at sign-out. */
const opened = new Map<string, Promise<Opened>>();
const cacheKey = (descriptor: AttachmentDescriptor) => `${descriptor.blobId}:${descriptor.key}`;

/** Downloads and decrypts an attachment (once per session), checking it against its descriptor. */
export function openAttachment(conversationId: string, descriptor: AttachmentDescriptor): Promise<Opened> {
  const key = cacheKey(descriptor);
  let entry = opened.get(key);
  if (!entry) {
    entry = (async () => {
      const ciphertext = await binary.getBytes(`/attachments/${segment(descriptor.blobId)}?conversationId=${segment(conversationId)}`);
      const plain = await decryptAttachment(ciphertext, descriptor);
      const blob = new Blob([plain], { type: descriptor.contentType });
      return { blob, url: URL.createObjectURL(blob) };
    })();
    entry.catch(() => opened.delete(key));
    opened.set(key, entry);
  }
  return entry;
}

/** Forgets every decrypted attachment (sign-out, messenger stop). */
export function forgetOpenedAttachments(): void {
  for (const entry of opened.values()) void entry.then((o) => URL.revokeObjectURL(o.url), () => undefined);
  opened.clear();
}

/**
 * The one way a decrypted attachment leaves the app: the export is written to the audit log
 * first, then the browser saves the file.
 */
export async function exportAttachment(conversationId: string, descriptor: AttachmentDescriptor): Promise<void> {
  const { url } = await openAttachment(conversationId, descriptor);
  await http.post<Ok>(`/attachments/${segment(descriptor.blobId)}/exports`, { conversationId });
  const link = document.createElement('a');
  link.href = url;
  link.download = descriptor.fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
