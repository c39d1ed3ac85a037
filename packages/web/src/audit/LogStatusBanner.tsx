import { useState, type ReactNode } from 'react';
import type { AuditVerification } from '@consilium/protocol';
import { verifyAuditLog } from '../api/audit';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { describeError } from '../ui/error-text';
import { formatDateTime, formatTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { keyLabelOf } from './log-check';
import type { LogStatus, LogStatusHandle } from './use-log-status';

const countEntries = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'entry' : 'entries'}`;

/**
 * The log's state at a glance: its size, the latest checkpoint, what the browser concluded about
 * it, and the server's full recomputation on request.
 */
export function LogStatusBanner({ log }: { log: LogStatusHandle }) {
  const { status } = log;
  const [confirmingReset, setConfirmingReset] = useState(false);
  const recheck = useAction();

  return (
    <section className="card audit-status" aria-labelledby="audit-status-heading">
      <h2 id="audit-status-heading" className="card-title">
        Log integrity
      </h2>
      <Glance status={status} />
      {/* Keyed by state, so each verdict is a new element: a red one is announced as an alert. */}
      <div data-testid="audit-log-status" aria-live="polite">
        <StatusAlert key={status.kind} status={status} />
      </div>
      <div className="button-row">
        <button
          type="button"
          className="button button-secondary button-small"
          disabled={recheck.pending || status.kind === 'checking'}
          onClick={() => void recheck.run(async () => void (await log.recheck()))}
        >
          {recheck.pending ? 'Checking…' : 'Check again'}
        </button>
        {(status.kind === 'key-changed' || status.kind === 'history-changed') && (
          <button type="button" className="button button-danger-quiet button-small" onClick={() => setConfirmingReset(true)}>
            {status.kind === 'key-changed' ? 'Trust the new key…' : 'Forget the checkpoint you saw…'}
          </button>
        )}
      </div>
      <FullVerification />

      {confirmingReset && (
        <ConfirmDialog
          title={status.kind === 'key-changed' ? 'Trust the log’s new signing key?' : 'Forget the checkpoint you saw?'}
          confirmLabel={status.kind === 'key-changed' ? 'Trust the new key' : 'Forget it'}
          onConfirm={log.trustAgain}
          onClose={() => setConfirmingReset(false)}
        >
          <p>
            Only do this after whoever runs Consilium has explained the change to you through another channel, for example a planned key
            rotation or a restore from backup. Copy the evidence first: this browser will no longer remember what it saw.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function Glance({ status }: { status: LogStatus }) {
  if (status.kind === 'checking' || status.kind === 'failed') return null;
  const { info } = status;
  const checkpoint = status.kind === 'trusted' ? status.checkpoint : null;
  return (
    <dl className="audit-glance">
      <div>
        <dt>Entries in the log</dt>
        <dd>{info.size.toLocaleString()}</dd>
      </div>
      <div>
        <dt>Latest checkpoint</dt>
        <dd>
          {checkpoint ? (
            <>
              {countEntries(checkpoint.size)}
              <span className="audit-glance-note">checked in this browser at {formatTime(checkpoint.checkedAt)}</span>
            </>
          ) : status.kind === 'history-changed' ? (
            countEntries(status.presented.size)
          ) : (
            '—'
          )}
        </dd>
      </div>
      <div>
        <dt>Signing key</dt>
        <dd>
          <code className="audit-key">{keyLabelOf(info.verifierKey)}</code>
        </dd>
      </div>
    </dl>
  );
}

function Alert({ tone, title, children }: { tone: 'success' | 'error' | 'info'; title: string; children?: ReactNode }) {
  return (
    <div role={tone === 'error' ? 'alert' : undefined} className={`alert alert-${tone} audit-alert`}>
      <p className="audit-alert-title">{title}</p>
      {children}
    </div>
  );
}

function Evidence({ seen, presented }: { seen: string; presented: string | null }) {
  return (
    <details className="audit-evidence">
      <summary>Evidence</summary>
      <p className="small">The checkpoint this browser saw:</p>
      <pre className="audit-code">{seen}</pre>
      {presented !== null && (
        <>
          <p className="small">What the server presents now:</p>
          <pre className="audit-code">{presented}</pre>
        </>
      )}
    </details>
  );
}

function StatusAlert({ status }: { status: LogStatus }) {
  switch (status.kind) {
    case 'checking':
      return <Alert tone="info" title="Checking the log’s signed checkpoint in your browser…" />;
    case 'failed':
      return (
        <Alert tone="error" title="The log could not be checked">
          <p>{describeError(status.error)}</p>
        </Alert>
      );
    case 'no-checkpoint':
      return (
        <Alert tone="info" title="No signed checkpoint yet">
          <p>The server signs a checkpoint within a second or so of new entries. Checking again shortly…</p>
        </Alert>
      );
    case 'invalid-checkpoint':
      return (
        <Alert tone="error" title="The server’s checkpoint is not validly signed">
          <p>Your browser refused it: {status.reason}. Do not rely on the log until this is explained.</p>
        </Alert>
      );
    case 'key-changed':
      return (
        <Alert tone="error" title="The log’s signing key changed">
          <p>
            This browser has trusted the key <code>{keyLabelOf(status.pinned.verifierKey)}</code> for the log {status.pinned.origin} since{' '}
            {formatDateTime(status.pinned.seenAt)}. The server now presents <code>{keyLabelOf(status.info.verifierKey)}</code> for{' '}
            {status.info.origin}. Nothing is checked against the new key until you confirm the change with whoever runs Consilium.
          </p>
          <Evidence seen={status.pinned.note} presented={status.info.checkpoint} />
        </Alert>
      );
    case 'history-changed':
      return (
        <Alert tone="error" title="The log changed history: the server’s new checkpoint is not an extension of the one you saw">
          <p>
            On {formatDateTime(status.pinned.seenAt)} this browser saw a checkpoint of {countEntries(status.pinned.size)}. The server now presents
            one of {countEntries(status.presented.size)}, and no valid consistency proof links the two:
            entries may have been removed, reordered or rewritten. Keep the evidence and report this to your security team.
          </p>
          <Evidence seen={status.pinned.note} presented={status.presented.note} />
        </Alert>
      );
    case 'trusted': {
      const { baseline, checkpoint } = status;
      if (!baseline) {
        return (
          <Alert tone="success" title="Checkpoint verified in your browser">
            <p>
              Your browser checked the checkpoint’s signature with the log’s key itself. This is the first checkpoint it has seen for this
              log: it is now pinned here, and later visits check that the log only grew from it.
            </p>
          </Alert>
        );
      }
      return (
        <Alert tone="success" title={`Log consistent with the checkpoint you saw on ${formatDateTime(baseline.seenAt)}`}>
          <p>
            {checkpoint.size === baseline.size
              ? `The server presents the same checkpoint of ${countEntries(checkpoint.size)} that this browser saw then.`
              : `The signed checkpoint of ${countEntries(checkpoint.size)} extends the one of ${countEntries(baseline.size)} that this browser saw then: the log has only grown since.`}{' '}
            Your browser checked the signature and the consistency proof itself; it does not take the server’s word for it.
          </p>
        </Alert>
      );
    }
  }
}

/** The server's own recomputation of the whole tree; complements the browser's check above. */
function FullVerification() {
  const [result, setResult] = useState<AuditVerification | null>(null);
  const action = useAction();
  const run = () =>
    action.run(async () => {
      setResult(null);
      setResult(await verifyAuditLog());
    });

  return (
    <div className="audit-full-verification">
      <div className="button-row">
        <button type="button" className="button button-secondary" onClick={() => void run()} disabled={action.pending}>
          {action.pending ? 'Verifying…' : 'Run full verification'}
        </button>
        <span className="muted small">The server recomputes the tree from every stored entry and checks each signed checkpoint.</span>
      </div>
      <ErrorAlert error={action.error} />
      <div role="status" aria-live="polite" className="alert-region">
        {result &&
          (result.ok ? (
            <div className="alert alert-success">
              Full verification passed: {countEntries(result.entries)} and {result.checkpoints.toLocaleString()} checkpoints checked,
              no problems ({formatDateTime(result.verifiedAt)}).
            </div>
          ) : (
            <div className="alert alert-error">
              <p className="audit-alert-title">
                Full verification found {result.problems.length} problem{result.problems.length === 1 ? '' : 's'} in {countEntries(result.entries)} ({formatDateTime(result.verifiedAt)})
              </p>
              <ul>
                {result.problems.map((problem, i) => (
                  <li key={`${problem.index}:${problem.kind}:${i}`}>
                    Entry #{problem.index}: {problem.message} <span className="small">({problem.kind})</span>
                  </li>
                ))}
              </ul>
            </div>
          ))}
      </div>
    </div>
  );
}
