import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { CaseDetail, CasePage, CaseSummary } from '@consilium/protocol';
import { acceptCase, closeCase, declineCase, escalateCase, getCase, markCaseAnswered, recordCaseExport } from '../api/cases';
import { useActiveSession } from '../app/active-session';
import { routeHref } from '../app/route';
import { useMessenger, useMessengerSnapshot } from '../messaging/MessengerProvider';
import { ThreadView } from '../messaging/ThreadView';
import type { ConversationSummary, ThreadMessage } from '../messaging/types';
import { Badge } from '../ui/Badge';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { StatusMessage } from '../ui/StatusMessage';
import { TextAreaField } from '../ui/fields';
import { formatDateTime, formatTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { encodeCaseOutcome, MAX_OUTCOME, parseCaseContent, sexLabels, type CaseHeader, type CaseOutcome } from './case-content';
import { describePaging, statusLabels, statusTones, urgencyLabels, urgencyTones } from './case-labels';
import { buildCaseBundle } from './fhir-export';
import { useCaseChanges } from './use-case-changes';
import './cases.css';

const REFRESH_MS = 30_000;

/** The case's decrypted content on this device: the first header, and the latest outcome. */
function contentOf(conversation: ConversationSummary | undefined): { header: CaseHeader | null; outcome: CaseOutcome | null } {
  let header: CaseHeader | null = null;
  let outcome: CaseOutcome | null = null;
  for (const m of conversation?.messages ?? []) {
    if (m.status === 'undecryptable') continue;
    const content = parseCaseContent(m.text);
    if (content?.type === 'case.header' && !header) header = content;
    if (content?.type === 'case.outcome') outcome = content;
  }
  return { header, outcome };
}

/** Case messages in the thread: short labelled cards instead of their JSON. */
function renderCaseMessage(m: ThreadMessage) {
  const content = parseCaseContent(m.text);
  if (!content) return null;
  if (content.type === 'case.header') {
    return (
      <div className="case-message-card">
        <p className="case-message-label small">Consult request</p>
        <p className="message-text">
          {content.patient.initials}, {content.patient.ageBand}: {content.sbar.recommendation}
        </p>
      </div>
    );
  }
  return (
    <div className="case-message-card">
      <p className="case-message-label small">Outcome</p>
      <p className="message-text">{content.summary}</p>
    </div>
  );
}

export function CaseView({ caseId }: { caseId: string }) {
  const load = useCallback(() => getCase(caseId), [caseId]);
  const [detail, reload, replace] = useLoaded<CaseDetail>(load);
  const snapshot = useMessengerSnapshot();
  useCaseChanges((id) => id === caseId && reload());
  const conversation = snapshot.conversations.find((c) => c.id === caseId);
  const closed = detail.status === 'ready' && detail.data.case.status === 'closed';
  const messageCount = conversation?.messages.length ?? 0;

  // A new message often comes with a change of state (an answer, an outcome): look again then.
  useEffect(() => {
    if (messageCount > 0) reload();
  }, [messageCount, reload]);

  // The WebSocket says when a case changes; if it is down unnoticed, an open case still refreshes.
  useEffect(() => {
    if (closed) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [closed, reload]);

  if (detail.status === 'loading') return <p className="muted page">Loading the case…</p>;
  if (detail.status === 'failed') {
    return (
      <div className="page">
        <PageHeading>Case</PageHeading>
        <ErrorAlert error={detail.error} />
        <p>
          <a href={routeHref({ name: 'cases' })}>Back to cases</a>
        </p>
      </div>
    );
  }
  const summary = detail.data.case;
  const updated = (next: CaseSummary) => replace({ ...detail.data, case: next });
  const { header, outcome } = contentOf(conversation);

  return (
    <div className="case-view">
      <div className="page page-wide case-page">
        <p className="small">
          <a href={routeHref({ name: 'cases' })}>← All cases</a>
        </p>
        <div className="case-title-row">
          <PageHeading title={`Consult to ${summary.departmentName}`}>Consult to {summary.departmentName}</PageHeading>
          <span className="case-badges">
            <Badge tone={urgencyTones[summary.urgency]}>{urgencyLabels[summary.urgency]}</Badge>
            <Badge tone={statusTones[summary.status]}>{statusLabels[summary.status]}</Badge>
          </span>
        </div>
        <p className="muted">
          Asked by {summary.openedByName} on {formatDateTime(summary.openedAt)}
          {summary.answeredAt && ` · answered ${formatDateTime(summary.answeredAt)}`}
          {summary.closedAt && ` · closed ${formatDateTime(summary.closedAt)}`}
        </p>

        {summary.awaitingMyResponse && <PageAlert summary={summary} onChanged={updated} />}

        <div className="case-grid">
          <div className="stack">
            <ResumeSetup caseId={caseId} statuses={conversation?.messages.filter((m) => m.own).map((m) => m.status).join() ?? ''} />
            <ConsultCard header={header} outcome={outcome} joined={conversation?.joined ?? false} />
          </div>
          <div className="stack">
            {summary.page && <PagingPanel page={summary.page} />}
            <CaseActions summary={summary} conversation={conversation} onChanged={updated} />
          </div>
        </div>
      </div>
      <section className="case-thread" aria-label="Conversation">
        <ThreadView conversationId={caseId} renderContent={renderCaseMessage} />
      </section>
    </div>
  );
}

/**
 * This device opened the case but its setup did not finish (no group, devices missing, or the
 * consult not sent): the consult is still sealed here, and Retry finishes the setup, sending it once.
 * Shown to the requester's device only (no other device holds the setup); looked at again whenever
 * the state of an own message changes (`statuses`).
 */
function ResumeSetup({ caseId, statuses }: { caseId: string; statuses: string }) {
  const messenger = useMessenger();
  const [pending, setPending] = useState(false);
  const action = useAction();
  useEffect(() => {
    let live = true;
    void messenger
      ?.caseSetupPending(caseId)
      .then((p) => live && setPending(p))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [messenger, caseId, statuses]);
  if (!pending || !messenger) return null;
  return (
    <div role="alert" className="alert alert-error">
      <p>
        <strong>The consult has not been sent.</strong> Setting up this case on your device did not finish, so nobody in it can read the consult yet. Retry sends it (once);
        call the people paged if it is urgent.
      </p>
      <div className="button-row">
        <button
          type="button"
          className="button button-primary"
          disabled={action.pending}
          onClick={() =>
            void action.run(async () => {
              await messenger.resumeCase(caseId);
              setPending(await messenger.caseSetupPending(caseId));
            })
          }
        >
          {action.pending ? 'Retrying…' : 'Retry'}
        </button>
      </div>
      <ErrorAlert error={action.error} />
    </div>
  );
}

/** The consult is paging this user now: impossible to miss, with the two answers at hand. */
function PageAlert({ summary, onChanged }: { summary: CaseSummary; onChanged: (s: CaseSummary) => void }) {
  const action = useAction();
  return (
    <div role="alert" className={`case-page-alert case-page-alert-${summary.urgency}`}>
      <p className="case-page-alert-title">
        {urgencyLabels[summary.urgency]} consult: you are being paged by {summary.openedByName}
      </p>
      <p>Accept to take it (paging stops for everyone), or decline to page the next person on call now.</p>
      <div className="button-row">
        <button type="button" className="button button-primary" disabled={action.pending} onClick={() => void action.run(async () => onChanged(await acceptCase(summary.id)))}>
          Accept
        </button>
        <button type="button" className="button button-secondary" disabled={action.pending} onClick={() => void action.run(async () => onChanged(await declineCase(summary.id)))}>
          Decline
        </button>
      </div>
      <ErrorAlert error={action.error} />
    </div>
  );
}

function ConsultCard({ header, outcome, joined }: { header: CaseHeader | null; outcome: CaseOutcome | null; joined: boolean }) {
  if (!header) {
    return (
      <section className="card" aria-labelledby="consult-heading">
        <h2 id="consult-heading" className="card-title">
          Consult
        </h2>
        <p className="muted">
          {joined ? 'The consult has not arrived on this device yet.' : 'This device has not been added to the case yet; the consult appears once it has.'}
        </p>
      </section>
    );
  }
  const { patient, sbar } = header;
  const rows: [string, string][] = [
    ['Situation', sbar.situation],
    ['Background', sbar.background],
    ['Assessment', sbar.assessment],
    ['Recommendation / question', sbar.recommendation],
  ];
  return (
    <section className="card case-consult" aria-labelledby="consult-heading">
      <h2 id="consult-heading" className="card-title">
        Consult
      </h2>
      <dl className="case-patient" aria-label="Patient">
        <div>
          <dt>Patient</dt>
          <dd>{patient.initials}</dd>
        </div>
        <div>
          <dt>Age</dt>
          <dd>{patient.ageBand}</dd>
        </div>
        <div>
          <dt>Sex</dt>
          <dd>{sexLabels[patient.sex]}</dd>
        </div>
        {patient.localIdentifier && (
          <div>
            <dt>Local identifier</dt>
            <dd>{patient.localIdentifier}</dd>
          </div>
        )}
      </dl>
      <dl className="case-sbar">
        {rows.map(([label, text]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{text || <span className="muted">Not given</span>}</dd>
          </div>
        ))}
      </dl>
      {outcome && (
        <div className="case-outcome">
          <h3 className="small">Outcome</h3>
          <p>{outcome.summary}</p>
        </div>
      )}
      <p className="muted small">End-to-end encrypted: only the people in this case can read it.</p>
    </section>
  );
}

const pageStateText: Record<CasePage['state'], string> = {
  paging: 'Paging',
  accepted: 'Accepted',
  unanswered: 'Nobody accepted',
  cancelled: 'Paging stopped',
};

function PagingPanel({ page }: { page: CasePage }) {
  const steps = [...new Set(page.targets.map((t) => t.step))].sort((a, b) => a - b);
  const acceptedName = page.targets.find((t) => t.accountId === page.acceptedBy)?.displayName;
  return (
    <section className="card case-paging" aria-labelledby="paging-heading">
      <h2 id="paging-heading" className="card-title">
        Paging
      </h2>
      <p>
        <strong>{pageStateText[page.state]}</strong>
        {page.state === 'paging' && ` · step ${page.step} of ${page.stepCount}`}
        {page.state === 'accepted' && acceptedName && ` by ${acceptedName}`}
        {page.acceptedAt && ` at ${formatTime(page.acceptedAt)}`}
      </p>
      {page.nextActionAt && (
        <p className="muted small">
          Next reminder or escalation at <time dateTime={page.nextActionAt}>{formatTime(page.nextActionAt)}</time> (notified {page.notifications}{' '}
          {page.notifications === 1 ? 'time' : 'times'}).
        </p>
      )}
      {page.state === 'unanswered' && <p className="notice small">Nobody on the on-call chain accepted. Call the department, or page again.</p>}
      <ol className="case-steps">
        {steps.map((step) => (
          <li key={step} className={page.state === 'paging' && step === page.step ? 'case-step-current' : undefined}>
            <span className="case-step-label">
              Step {step}
              {page.state === 'paging' && step === page.step && <span className="visually-hidden"> (being paged now)</span>}
            </span>
            <ul>
              {page.targets
                .filter((t) => t.step === step)
                .map((t) => (
                  <li key={t.accountId}>
                    {t.displayName}
                    {t.accountId === page.acceptedBy && <Badge tone="success">Accepted</Badge>}
                    {t.declinedAt && <Badge tone="neutral">Declined {formatTime(t.declinedAt)}</Badge>}
                    {!t.declinedAt && t.notifiedAt && t.accountId !== page.acceptedBy && <span className="muted small"> · notified {formatTime(t.notifiedAt)}</span>}
                    {!t.notifiedAt && <span className="muted small"> · not paged yet</span>}
                  </li>
                ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}

function CaseActions({ summary, conversation, onChanged }: { summary: CaseSummary; conversation: ConversationSummary | undefined; onChanged: (s: CaseSummary) => void }) {
  const { me } = useActiveSession();
  const action = useAction();
  const [closing, setClosing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [escalateTo, setEscalateTo] = useState('');
  const page = summary.page;
  const isRequester = summary.openedBy === me.account.id;
  const isAccepter = page?.acceptedBy === me.account.id;
  const closed = summary.status === 'closed';
  const onChain = page?.targets.some((t) => t.accountId === me.account.id) ?? false;
  // Anyone on the chain may take a consult that is still paging (or that nobody took) from any step.
  const mayAcceptLate = !summary.awaitingMyResponse && onChain && (page?.state === 'paging' || page?.state === 'unanswered');
  const mayEscalate = !closed && (page?.state === 'paging' || page?.state === 'unanswered');
  const steps = page ? [...new Set(page.targets.map((t) => t.step))].sort((a, b) => a - b) : [];

  const run = (task: () => Promise<CaseSummary>, message: string) =>
    void action.run(async () => {
      setDone(null);
      onChanged(await task());
      setDone(message);
    });

  const escalate = (event: FormEvent) => {
    event.preventDefault();
    const step = escalateTo ? Number(escalateTo) : undefined;
    run(() => escalateCase(summary.id, step), step ? `Paging step ${step} now.` : 'Paging the next step now.');
  };

  return (
    <section className="card" aria-labelledby="case-actions-heading">
      <h2 id="case-actions-heading" className="card-title">
        Actions
      </h2>
      <div className="button-row">
        {mayAcceptLate && (
          <button type="button" className="button button-primary" disabled={action.pending} onClick={() => run(() => acceptCase(summary.id), 'You accepted the consult.')}>
            Accept
          </button>
        )}
        {!closed && !isRequester && summary.status === 'open' && (
          <button type="button" className="button button-secondary" disabled={action.pending} onClick={() => run(() => markCaseAnswered(summary.id), 'Marked as answered.')}>
            Mark answered
          </button>
        )}
        {!closed && (isRequester || isAccepter) && (
          <button type="button" className="button button-secondary" disabled={action.pending} onClick={() => setClosing(true)}>
            Close case
          </button>
        )}
        {closed && <ExportButton summary={summary} conversation={conversation} onDone={setDone} />}
      </div>
      {mayEscalate && (
        <form className="inline-form case-escalate" onSubmit={escalate}>
          <div className="field">
            <label htmlFor="escalate-step">Escalate</label>
            <select id="escalate-step" className="input" value={escalateTo} onChange={(e) => setEscalateTo(e.target.value)}>
              <option value="">Next step</option>
              {steps.map((s) => (
                <option key={s} value={s}>
                  Step {s}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="button button-secondary" disabled={action.pending}>
            {page?.state === 'unanswered' ? 'Page again' : 'Escalate'}
          </button>
        </form>
      )}
      {closed && <p className="muted small">This case is closed. Its messages are kept as the organisation’s retention policy says.</p>}
      <ErrorAlert error={action.error} />
      <StatusMessage tone="success">{done}</StatusMessage>
      {closing && (
        <CloseCaseDialog
          caseId={summary.id}
          onClose={() => setClosing(false)}
          onClosed={(s) => {
            setClosing(false);
            onChanged(s);
            setDone('The case is closed.');
          }}
        />
      )}
    </section>
  );
}

/** Closing asks for the outcome, which goes into the case encrypted before the server is told. */
function CloseCaseDialog({ caseId, onClose, onClosed }: { caseId: string; onClose: () => void; onClosed: (s: CaseSummary) => void }) {
  const messenger = useMessenger();
  const [summary, setSummary] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!summary.trim()) return setProblem('Write the outcome: what was decided or done.');
    setProblem(null);
    await action.run(async () => {
      if (!messenger) throw new Error('secure messaging is still starting on this device');
      await messenger.send(caseId, encodeCaseOutcome(summary));
      onClosed(await closeCase(caseId));
    });
  };
  return (
    <Dialog title="Close case" onClose={onClose} description="The outcome is sent end-to-end encrypted to everyone in the case, then the case is closed.">
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextAreaField label="Outcome summary" rows={4} maxLength={MAX_OUTCOME} value={summary} onChange={(e) => setSummary(e.target.value)} error={problem} data-autofocus />
        <ErrorAlert error={action.error} />
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Closing…' : 'Send outcome and close'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Builds and checks the FHIR bundle on this device, records the export, then saves the file. */
function ExportButton({ summary, conversation, onDone }: { summary: CaseSummary; conversation: ConversationSummary | undefined; onDone: (m: string) => void }) {
  const { me } = useActiveSession();
  const action = useAction();
  const exportCase = () =>
    void action.run(async () => {
      if (!conversation) throw new Error('the case conversation is not on this device');
      const { bundle, skipped } = buildCaseBundle({
        summary,
        members: conversation.members,
        messages: conversation.messages,
        exporter: { accountId: me.account.id, displayName: me.account.displayName },
        exportedAt: new Date(),
      });
      // The audit entry is written before the record leaves the app.
      await recordCaseExport(summary.id);
      const url = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `case-${summary.id}.fhir.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      onDone(`Exported ${bundle.entry.length} FHIR resources${skipped ? `; ${skipped} message${skipped === 1 ? '' : 's'} not readable on this device left out` : ''}.`);
    });
  return (
    <>
      <button type="button" className="button button-secondary" disabled={action.pending} onClick={exportCase}>
        Export to record (FHIR)
      </button>
      <ErrorAlert error={action.error} />
    </>
  );
}
