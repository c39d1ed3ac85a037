/** One stored ciphertext, named by its SHA-256 (content address); the file is under blobDir. */
export interface AttachmentBlobTable {
  /** Lowercase hex SHA-256 of the ciphertext. */
  blob_id: string;
  /** Ciphertext bytes. */
  size: number;
  /** Who first uploaded it, when. */
  uploaded_by: string;
  created_at: string;
}
/**
 * Which conversation a blob was uploaded for: members of a linked conversation may download it.
 * One row per (blob, conversation); a re-upload for another conversation adds a link.
 */
export interface AttachmentLinkTable {
  blob_id: string;
  conversation_id: string;
  account_id: string;
  /** The content type the uploader declared (from the allowlist); the real one is inside the MLS message. */
  content_type: string;
  /** When it was uploaded (for a pending link: last uploaded, which starts its pending time again). */
  created_at: string;
  /**
   * When a sent message named it (SubmitMessageBody attachmentIds), or its upload time for uploads
   * that do not wait for one; null while pending: the sweep deletes it after attachmentPendingHours.
   */
  confirmed_at: string | null;
}
export type PartialDB = {
  attachment_blob: AttachmentBlobTable;
  attachment_link: AttachmentLinkTable;
};
