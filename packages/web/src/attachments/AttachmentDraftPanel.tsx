import { useRef } from 'react';
import type { ImageEdits } from './sanitise-image';
import { ImageEditor } from './ImageEditor';
import { ACCEPTED_FILE_TYPES, assertSize, contentTypeOf, isImageType } from './file-types';
import { formatBytes } from './format-bytes';

export interface AttachmentDraft {
  file: File;
  image: boolean;
  edits: ImageEdits;
}

/** Checks a chosen file against the allowlist and the size limit before anything is encrypted. */
export function draftOf(file: File): AttachmentDraft {
  const type = contentTypeOf(file);
  assertSize(file.size);
  return { file, image: isImageType(type) && type !== 'image/heic', edits: { crop: null, blur: [] } };
}

/** The paper-clip button of the composer: picks one file. */
export function AttachButton({ onPick, disabled }: { onPick: (file: File) => void; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        accept={ACCEPTED_FILE_TYPES}
        className="visually-hidden"
        aria-label="Attach a file"
        data-testid="attach-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) onPick(file);
        }}
      />
      <button type="button" className="button button-secondary" disabled={disabled} onClick={() => input.current?.click()}>
        Attach
      </button>
    </>
  );
}

/** The file waiting to be sent with the next message: an image editor, or the file's name and size. */
export function AttachmentDraftPanel({ draft, onChange, onRemove }: { draft: AttachmentDraft; onChange: (draft: AttachmentDraft) => void; onRemove: () => void }) {
  return (
    <div className="attachment-draft" aria-label="Attachment to send">
      <p className="small">
        <strong>{draft.file.name}</strong> <span className="muted">({formatBytes(draft.file.size)})</span>{' '}
        <button type="button" className="link-button" onClick={onRemove}>
          Remove
        </button>
      </p>
      {draft.image && <ImageEditor file={draft.file} edits={draft.edits} onChange={(edits) => onChange({ ...draft, edits })} />}
    </div>
  );
}
