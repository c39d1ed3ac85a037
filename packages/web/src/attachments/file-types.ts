/** Which files the composer takes: the protocol's allowlist, and the size limit. */
import { AttachmentContentType, MAX_ATTACHMENT_BYTES } from '@consilium/protocol';

export const ACCEPTED_FILE_TYPES = AttachmentContentType.options.join(',');

/** Types that are re-encoded (metadata stripped) before they are sent. */
export const isImageType = (type: string) => type === 'image/jpeg' || type === 'image/png' || type === 'image/webp' || type === 'image/heic';

const byExtension: Record<string, AttachmentContentType> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
};

export class AttachmentRefused extends Error {
  override readonly name = 'AttachmentRefused';
}

/** The allowlisted type of a chosen file (browsers leave `type` empty for some, e.g. HEIC). */
export function contentTypeOf(file: File): AttachmentContentType {
  const declared = AttachmentContentType.safeParse(file.type);
  if (declared.success) return declared.data;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  const guessed = byExtension[ext];
  if (guessed) return guessed;
  throw new AttachmentRefused('this kind of file cannot be sent; send photos (JPEG, PNG, HEIC, WebP), PDFs or office documents');
}

export function assertSize(bytes: number): void {
  if (bytes > MAX_ATTACHMENT_BYTES) throw new AttachmentRefused(`files can be at most ${MAX_ATTACHMENT_BYTES / (1024 * 1024)} MiB`);
}

