import { useState } from 'react';
import type { AuditEntry } from '@consilium/protocol';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTimeSeconds } from '../ui/format';
import { useAction } from '../ui/use-action';
import { eventLabel } from './event-labels';
import { checkInclusion, type InclusionCheck, type TrustedCheckpoint } from './log-check';

interface AuditEntryDialogProps {
  entry: AuditEntry;
  checkpointCovering: (index: number) => Promise<TrustedCheckpoint>;
  onClose: () => void;
}

/** One entry as the server returned it, and a check, in the browser, that it is in the signed log. */
export function AuditEntryDialog({ entry, checkpointCovering, onClose }: AuditEntryDialogProps) {
  const [result, setResult] = useState<InclusionCheck | null>(null);
  const action = useAction();
  const verify = () =>
    action.run(async () => {
      setResult(null);
      setResult(await checkInclusion(entry.index, await checkpointCovering(entry.index)));
    });

  return (
    <Dialog
      title={`Entry #${entry.index}: ${eventLabel(entry.type)}`}
      description={formatDateTimeSeconds(entry.at)}
      onClose={onClose}
      wide
    >
      <div className="stack">
        <pre className="audit-code audit-json" tabIndex={0} aria-label={`Entry ${entry.index} as JSON`}>
          {JSON.stringify(entry, null, 2)}
        </pre>
        <div className="button-row">
          <button type="button" className="button button-primary" onClick={() => void verify()} disabled={action.pending} data-autofocus>
            {action.pending ? 'Verifying…' : 'Verify inclusion'}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Close
          </button>
        </div>
        <ErrorAlert error={action.error} />
        <div role="status" aria-live="polite" className="alert-region">
          {result &&
            (result.included ? (
              <div className="alert alert-success">
                <p className="audit-alert-title">Included in the signed log</p>
                <p>
                  Your browser checked the inclusion proof: leaf #{result.index} is in the tree of the signed checkpoint of{' '}
                  {result.size.toLocaleString()} entries that it verified.
                </p>
                <p className="small">
                  Leaf hash, as sent by the server: <code className="audit-hash">{result.leafHash}</code>
                </p>
              </div>
            ) : (
              <div className="alert alert-error">
                <p className="audit-alert-title">Not proven to be in the signed log</p>
                <p>The check failed: {result.reason}.</p>
              </div>
            ))}
        </div>
        <p className="muted small">
          The leaf hash comes from the server, with the proof: the API returns an entry’s fields but not the exact bytes hashed into the
          log, so this check shows that leaf #{entry.index} is in the signed log, not yet that its content is the text above.
        </p>
      </div>
    </Dialog>
  );
}
