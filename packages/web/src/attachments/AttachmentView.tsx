import { useEffect, useState } from 'react';
import type { AttachmentDescriptor } from '@consilium/protocol';
import { ApiError } from '../api/client';
import { ErrorAlert } from '../ui/ErrorAlert';
import { useAction } from '../ui/use-action';
import { formatBytes } from './format-bytes';
import { exportAttachment, openAttachment } from './vault';

/**
 * An attachment in the thread. Images are decrypted in memory and shown from a blob: URL inside
 * the app; documents only show their name. Saving a copy is the explicit, audited Export.
 */
export function AttachmentView({ conversationId, descriptor }: { conversationId: string; descriptor: AttachmentDescriptor }) {
  const image = descriptor.contentType === 'image/jpeg' || descriptor.contentType === 'image/png' || descriptor.contentType === 'image/webp';
  const [url, setUrl] = useState<string | null>(null);
  /** Why the photo is not shown: gone from the server (expired, recalled, purged) or not decryptable. */
  const [failed, setFailed] = useState<'gone' | 'broken' | null>(null);
  const action = useAction();

  useEffect(() => {
    if (!image) return;
    let live = true;
    openAttachment(conversationId, descriptor).then(
      (o) => live && setUrl(o.url),
      (error: unknown) => {
        console.warn('attachment could not be opened', error);
        if (live) setFailed(error instanceof ApiError && error.code === 'NOT_FOUND' ? 'gone' : 'broken');
      },
    );
    return () => {
      live = false;
    };
  }, [conversationId, descriptor, image]);

  return (
    <figure className="attachment" data-testid="attachment" data-blob-id={descriptor.blobId}>
      {image &&
        (url ? (
          <img
            src={url}
            alt={descriptor.fileName}
            width={descriptor.width}
            height={descriptor.height}
            draggable={false}
            onContextMenu={(e) => e.preventDefault()}
            style={{ maxWidth: '100%', height: 'auto', maxHeight: '320px', display: 'block' }}
          />
        ) : failed === 'gone' ? (
          <p className="muted small">This photo is no longer available (it expired or was deleted).</p>
        ) : failed ? (
          <p className="muted small">This photo could not be decrypted.</p>
        ) : (
          <p className="muted small">Decrypting photo…</p>
        ))}
      <figcaption className="small muted">
        {descriptor.fileName} · {formatBytes(descriptor.size)}{' '}
        <button
          type="button"
          className="link-button"
          disabled={action.pending}
          onClick={() => void action.run(() => exportAttachment(conversationId, descriptor))}
          title="Saves a decrypted copy on this device; recorded in the audit log"
        >
          Export
        </button>
      </figcaption>
      <ErrorAlert error={action.error} />
    </figure>
  );
}
