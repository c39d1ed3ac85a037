import { useState, type FormEvent } from 'react';
import { auditEventTypes, Id, type AuditEventType, type Member } from '@consilium/protocol';
import type { AuditFilter } from '../api/audit';
import { SelectField, TextField, type SelectOption } from '../ui/fields';
import { eventLabel } from './event-labels';

interface Draft {
  type: AuditEventType | '';
  actor: string;
  caseId: string;
  /** `datetime-local` values, in the browser's time zone. */
  from: string;
  to: string;
}

const emptyDraft: Draft = { type: '', actor: '', caseId: '', from: '', to: '' };

type Problems = Partial<Record<keyof Draft, string>>;

const typeOptions: SelectOption[] = [
  { value: '', label: 'All events' },
  ...[...auditEventTypes]
    .sort((a, b) => eventLabel(a).localeCompare(eventLabel(b)))
    .map((type) => ({ value: type, label: `${eventLabel(type)} (${type})` })),
];

const toInstant = (local: string) => new Date(local).toISOString();
const isDateTime = (local: string) => !local || !Number.isNaN(new Date(local).getTime());

interface AuditFiltersProps {
  /** The organisation's members, for administrators; null for roles that may not list them. */
  members: readonly Member[] | null;
  pending: boolean;
  onApply: (filter: AuditFilter) => void;
}

/** The search form. Applying it starts again from the newest matching entry. */
export function AuditFilters({ members, pending, onApply }: AuditFiltersProps) {
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [problems, setProblems] = useState<Problems>({});
  const set = (field: keyof Draft) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: event.target.value }));

  const actorOptions: SelectOption[] = [
    { value: '', label: 'Anyone' },
    ...[...(members ?? [])].sort((a, b) => a.displayName.localeCompare(b.displayName)).map((m) => ({ value: m.id, label: `${m.displayName} (${m.email})` })),
  ];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const actor = draft.actor.trim();
    const caseId = draft.caseId.trim();
    const found: Problems = {};
    if (actor && !Id.safeParse(actor).success) found.actor = 'Enter an account id (a UUID), as shown in an entry’s details.';
    if (caseId && !Id.safeParse(caseId).success) found.caseId = 'Enter a case id (a UUID).';
    if (!isDateTime(draft.from)) found.from = 'Enter a date and time.';
    if (!isDateTime(draft.to)) found.to = 'Enter a date and time.';
    else if (draft.from && draft.to && !found.from && new Date(draft.from) >= new Date(draft.to)) found.to = 'Pick a time after “From”.';
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const filter: AuditFilter = {};
    if (draft.type) filter.type = draft.type;
    if (actor) filter.actor = actor;
    if (caseId) filter.caseId = caseId;
    if (draft.from) filter.from = toInstant(draft.from);
    if (draft.to) filter.to = toInstant(draft.to);
    onApply(filter);
  };

  const clear = () => {
    setDraft(emptyDraft);
    setProblems({});
    onApply({});
  };

  return (
    <form className="audit-filters" onSubmit={submit} noValidate aria-label="Search the audit log">
      <SelectField label="Event" value={draft.type} options={typeOptions} onChange={set('type')} />
      {members ? (
        <SelectField label="Person" value={draft.actor} options={actorOptions} onChange={set('actor')} />
      ) : (
        <TextField
          label="Person (account id)"
          value={draft.actor}
          onChange={set('actor')}
          error={problems.actor}
          autoComplete="off"
          spellCheck={false}
          hint="Only administrators can pick from the member list."
        />
      )}
      <TextField label="Case id" value={draft.caseId} onChange={set('caseId')} error={problems.caseId} autoComplete="off" spellCheck={false} />
      <TextField label="From" type="datetime-local" value={draft.from} onChange={set('from')} error={problems.from} />
      <TextField label="Until" type="datetime-local" value={draft.to} onChange={set('to')} error={problems.to} hint="Entries before this time." />
      <div className="audit-filters-actions">
        <button type="submit" className="button button-primary" disabled={pending}>
          Search
        </button>
        <button type="button" className="button button-secondary" onClick={clear} disabled={pending}>
          Clear
        </button>
      </div>
    </form>
  );
}
