import { useState } from 'react';
import type { AuditListedEntry } from '@consilium/protocol';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTimeSeconds } from '../ui/format';
import { useAction } from '../ui/use-action';
import { eventLabel } from './event-labels';
import { checkInclusion, type InclusionCheck, type TrustedCheckpoint } from './log-check';

interface AuditEntryDialogProps {
  entry: AuditListedEntry;
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
      setResult(await checkInclusion(entry, await checkpointCovering(entry.index)));
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
          {JSON.stringify({ ...entry, leaf: undefined }, null, 2)}
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
                  Leaf hash, computed by your browser from this entry: <code className="audit-hash">{result.leafHash}</code>
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
          Your browser re-encodes the fields above into the exact text the log hashed, hashes it itself, and follows the server’s proof
          from that hash to the signed root: a changed field, or a different entry at #{entry.index}, fails the check.
        </p>
      </div>
    </Dialog>
  );
}
