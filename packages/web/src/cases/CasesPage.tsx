import { useCallback, useEffect, useState, type KeyboardEvent } from 'react';
import type { CaseFilter, CaseSummary } from '@consilium/protocol';
import { listCases } from '../api/cases';
import { routeHref } from '../app/route';
import { useMessengerSnapshot } from '../messaging/MessengerProvider';
import { Badge } from '../ui/Badge';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { formatDateTime } from '../ui/format';
import { useLoaded } from '../ui/use-loaded';
import { describePatient, parseCaseHeader } from './case-content';
import { describePaging, statusLabels, statusTones, urgencyLabels, urgencyTones } from './case-labels';
import { NewCaseDialog } from './NewCaseDialog';
import { useCaseChanges } from './use-case-changes';
import './cases.css';

const filters: { value: CaseFilter; label: string }[] = [
  { value: 'awaiting', label: 'Needs me' },
  { value: 'open', label: 'Open' },
  { value: 'urgent', label: 'Urgent' },
  { value: 'mine', label: 'Mine' },
  { value: 'department', label: 'My department' },
  { value: 'all', label: 'All' },
];

const emptyText: Record<CaseFilter, string> = {
  awaiting: 'No consult is waiting for your response.',
  open: 'No open cases.',
  urgent: 'No urgent or emergency cases are open.',
  mine: 'You have not asked for a consult yet.',
  department: 'No cases for your department.',
  all: 'No cases yet.',
};

/** The patient reference of a case, if this device has decrypted its header. */
function usePatientOf(): (caseId: string) => string | null {
  const snapshot = useMessengerSnapshot();
  return (caseId) => {
    const conversation = snapshot.conversations.find((c) => c.id === caseId);
    for (const m of conversation?.messages ?? []) {
      const header = parseCaseHeader(m.text);
      if (header) return describePatient(header.patient);
    }
    return null;
  };
}

/** Consults this user takes part in, filtered as tabs; "Needs me" first, since those are paging them. */
export function CasesPage() {
  const [filter, setFilter] = useState<CaseFilter>('awaiting');
  const load = useCallback(() => listCases(filter), [filter]);
  const [cases, reload] = useLoaded(load);
  const [composing, setComposing] = useState(false);
  const patientOf = usePatientOf();
  useCaseChanges(reload);
  // Also every 30 s, in case the WebSocket is down without anyone noticing.
  useEffect(() => {
    const timer = setInterval(reload, 30_000);
    return () => clearInterval(timer);
  }, [reload]);

  // The WAI-ARIA tabs pattern: arrow keys, Home and End move between the filters and select them.
  const moveBetweenTabs = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = filters.findIndex((f) => f.value === filter);
    const next =
      event.key === 'ArrowRight' ? (index + 1) % filters.length
      : event.key === 'ArrowLeft' ? (index - 1 + filters.length) % filters.length
      : event.key === 'Home' ? 0
      : event.key === 'End' ? filters.length - 1
      : null;
    if (next === null) return;
    event.preventDefault();
    setFilter(filters[next]!.value);
    document.getElementById(`cases-tab-${filters[next]!.value}`)?.focus();
  };

  return (
    <div className="page page-wide">
      <div className="cases-heading">
        <PageHeading>Cases</PageHeading>
        <button type="button" className="button button-primary" onClick={() => setComposing(true)}>
          New consult
        </button>
      </div>
      <p className="muted">Consults you asked for or were asked to answer. Patient details are end-to-end encrypted and shown only on your devices.</p>
      <div className="tabs" role="tablist" aria-label="Show cases" onKeyDown={moveBetweenTabs}>
        {filters.map((f) => (
          <button
            key={f.value}
            type="button"
            role="tab"
            id={`cases-tab-${f.value}`}
            className="tab tab-button"
            aria-selected={f.value === filter}
            aria-controls="cases-panel"
            tabIndex={f.value === filter ? 0 : -1}
            onClick={() => setFilter(f.value)}
          >
            {f.label}
          </button>
        ))}
      </div>
      <section id="cases-panel" role="tabpanel" aria-labelledby={`cases-tab-${filter}`} className="tab-panel">
        {cases.status === 'loading' && <p className="muted">Loading cases…</p>}
        {cases.status === 'failed' && <ErrorAlert error={cases.error} />}
        {cases.status === 'ready' &&
          (cases.data.cases.length === 0 ? (
            <p className="muted">{emptyText[filter]}</p>
          ) : (
            <ul className="list list-card case-list">
              {cases.data.cases.map((c) => (
                <CaseRow key={c.id} summary={c} patient={patientOf(c.id)} />
              ))}
            </ul>
          ))}
      </section>
      {composing && <NewCaseDialog onClose={() => setComposing(false)} />}
    </div>
  );
}

function CaseRow({ summary: c, patient }: { summary: CaseSummary; patient: string | null }) {
  const paging = describePaging(c);
  return (
    <li className={`list-row case-row${c.awaitingMyResponse ? ' case-row-awaiting' : ''}`}>
      <a className="case-row-link" href={routeHref({ name: 'case', id: c.id })}>
        <span className="case-row-title">
          <Badge tone={urgencyTones[c.urgency]}>{urgencyLabels[c.urgency]}</Badge> <span className="list-row-title">{c.departmentName}</span>
          {patient && <span className="muted"> · {patient}</span>}
        </span>
        <span className="case-row-meta small">
          <Badge tone={statusTones[c.status]}>{statusLabels[c.status]}</Badge>
          {c.awaitingMyResponse && <Badge tone="danger">Needs your response</Badge>}
          {paging && <span>{paging}</span>}
          <span className="muted">Asked by {c.openedByName}</span>
          <time className="muted" dateTime={c.updatedAt}>
            {formatDateTime(c.openedAt)}
          </time>
        </span>
      </a>
    </li>
  );
}
