import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { MAX_ONCALL_ENTRIES, type CasePolicy, type Member, type OnCallRoster, type UpdateCasePolicyBody } from '@consilium/protocol';
import { getCasePolicy, getOnCall, setOnCall, updateCasePolicy } from '../api/cases';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { SelectField, TextField } from '../ui/fields';
import { formatDateTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { loadDirectory } from './directory';
import '../cases/cases.css';

interface DraftEntry {
  key: string;
  step: number;
  accountId: string;
  displayName: string;
  startsAt: string | null;
  endsAt: string | null;
}

const MAX_STEP = 20;

/** `<input type="datetime-local">` works in local time without a zone; the API in ISO instants. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : null);

const mayBeOnCall = (m: Member) => m.status === 'active' && m.verification.level !== 'unverified';

const shiftText = (e: { startsAt: string | null; endsAt: string | null }) =>
  e.startsAt || e.endsAt ? `${e.startsAt ? formatDateTime(e.startsAt) : 'now'} – ${e.endsAt ? formatDateTime(e.endsAt) : 'open-ended'}` : 'Always';

/** Who is paged for each department, step by step, and the organisation's paging policy. */
export function OnCallTab() {
  const [directory] = useLoaded(loadDirectory);
  const [departmentId, setDepartmentId] = useState('');

  if (directory.status === 'loading') return <p className="muted">Loading departments…</p>;
  if (directory.status === 'failed') return <ErrorAlert error={directory.error} />;
  const { departments, members } = directory.data;
  const sorted = [...departments].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <div className="stack-large">
      <section className="card" aria-labelledby="oncall-heading">
        <h2 id="oncall-heading" className="card-title">
          On-call rosters
        </h2>
        <p className="muted">
          Urgent and emergency consults page step 1 first; when nobody accepts in time, or everyone on a step declines, the next step is paged. Everyone on a
          step is paged together. Only verified professionals can be on call.
        </p>
        {sorted.length === 0 ? (
          <p className="muted">Add a department first.</p>
        ) : (
          <SelectField
            label="Department"
            options={[{ value: '', label: 'Choose a department' }, ...sorted.map((d) => ({ value: d.id, label: d.name }))]}
            value={departmentId}
            onChange={(e) => setDepartmentId(e.target.value)}
          />
        )}
        {departmentId && <RosterEditor key={departmentId} departmentId={departmentId} members={members.filter(mayBeOnCall)} />}
      </section>
      <CasePolicyForm />
    </div>
  );
}

function RosterEditor({ departmentId, members }: { departmentId: string; members: Member[] }) {
  const load = useCallback(() => getOnCall(departmentId), [departmentId]);
  const [roster, , replace] = useLoaded<OnCallRoster>(load);
  const [entries, setEntries] = useState<DraftEntry[] | null>(null);
  const [dirty, setDirty] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [person, setPerson] = useState('');
  const [step, setStep] = useState('1');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const action = useAction();

  useEffect(() => {
    if (roster.status === 'ready') {
      setEntries(roster.data.entries.map((e) => ({ key: e.id, step: e.step, accountId: e.accountId, displayName: e.displayName, startsAt: e.startsAt, endsAt: e.endsAt })));
      setDirty(false);
    }
  }, [roster]);

  if (roster.status === 'loading' || (roster.status === 'ready' && entries === null)) return <p className="muted">Loading the roster…</p>;
  if (roster.status === 'failed') return <ErrorAlert error={roster.error} />;
  const list = entries ?? [];
  const steps = [...new Set(list.map((e) => e.step))].sort((a, b) => a - b);

  const add = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    const n = Number(step);
    const member = members.find((m) => m.id === person);
    if (!member) return setAddError('Choose a verified colleague.');
    if (!Number.isInteger(n) || n < 1 || n > MAX_STEP) return setAddError(`The step is a whole number from 1 to ${MAX_STEP}.`);
    if (startsAt && endsAt && new Date(endsAt) <= new Date(startsAt)) return setAddError('The shift must end after it starts.');
    if (list.some((e) => e.accountId === member.id && e.step === n && e.startsAt === fromLocalInput(startsAt) && e.endsAt === fromLocalInput(endsAt))) {
      return setAddError(`${member.displayName} is already on step ${n} for that shift.`);
    }
    if (list.length >= MAX_ONCALL_ENTRIES) return setAddError(`A roster holds at most ${MAX_ONCALL_ENTRIES} entries.`);
    setAddError(null);
    setEntries([...list, { key: crypto.randomUUID(), step: n, accountId: member.id, displayName: member.displayName, startsAt: fromLocalInput(startsAt), endsAt: fromLocalInput(endsAt) }]);
    setDirty(true);
    setPerson('');
  };
  const remove = (key: string) => {
    setDone(null);
    setEntries(list.filter((e) => e.key !== key));
    setDirty(true);
  };
  const save = () =>
    void action.run(async () => {
      const saved = await setOnCall(departmentId, {
        entries: list.map((e) => ({ step: e.step, accountId: e.accountId, startsAt: e.startsAt, endsAt: e.endsAt })),
      });
      replace(saved);
      const now = saved.now.map((s) => `step ${s.step}: ${s.people.map((p) => p.displayName).join(', ')}`).join('; ');
      setDone(`Roster saved. On call now: ${now || 'nobody'}.`);
    });

  return (
    <div className="stack">
      <h3 className="section-title">{roster.data.departmentName}</h3>
      {steps.length === 0 ? (
        <p className="muted">Nobody is on call for this department. Urgent consults to it are refused until someone is.</p>
      ) : (
        <ol className="list list-card" aria-label={`Roster of ${roster.data.departmentName}`}>
          {steps.map((s) => (
            <li key={s} className="list-row oncall-step">
              <span className="list-row-title">Step {s}</span>
              <ul className="list">
                {list
                  .filter((e) => e.step === s)
                  .map((e) => (
                    <li key={e.key} className="list-row">
                      <span>
                        {e.displayName} <span className="muted small">· {shiftText(e)}</span>
                      </span>
                      <button type="button" className="button button-danger-quiet button-small" onClick={() => remove(e.key)} aria-label={`Remove ${e.displayName} from step ${s}`}>
                        Remove
                      </button>
                    </li>
                  ))}
              </ul>
            </li>
          ))}
        </ol>
      )}

      <form className="form-grid" onSubmit={add} noValidate aria-label="Add to the roster">
        <SelectField
          label="Person"
          options={[{ value: '', label: members.length ? 'Choose a verified colleague' : 'No verified colleagues' }, ...members.map((m) => ({ value: m.id, label: m.displayName }))]}
          value={person}
          onChange={(e) => setPerson(e.target.value)}
          hint="Only verified professionals are listed."
        />
        <TextField label="Step" type="number" min={1} max={MAX_STEP} step={1} className="input-narrow" value={step} onChange={(e) => setStep(e.target.value)} />
        <TextField label="Shift starts (optional)" type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
        <TextField label="Shift ends (optional)" type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />
        <div className="form-grid-actions">
          <button type="submit" className="button button-secondary">
            Add to roster
          </button>
        </div>
        {addError && <p className="field-error form-grid-full">{addError}</p>}
      </form>

      <ErrorAlert error={action.error} />
      <StatusMessage tone="success">{done}</StatusMessage>
      <div className="button-row">
        <button type="button" className="button button-primary" disabled={action.pending || !dirty} onClick={save}>
          {action.pending ? 'Saving…' : 'Save roster'}
        </button>
        {dirty && <span className="muted small">Unsaved changes</span>}
      </div>
    </div>
  );
}

interface PolicyDraft {
  urgentMinutes: string;
  emergencyMinutes: string;
  renotifyMinutes: string;
  urgentPerHour: string;
  retentionDays: string;
}

const toDraft = (p: CasePolicy): PolicyDraft => ({
  urgentMinutes: String(p.urgentStepSeconds / 60),
  emergencyMinutes: String(p.emergencyStepSeconds / 60),
  renotifyMinutes: String(p.renotifySeconds / 60),
  urgentPerHour: String(p.urgentPerHour),
  retentionDays: p.retentionDaysAfterClose === null ? '' : String(p.retentionDaysAfterClose),
});

function CasePolicyForm() {
  const [policy, , replace] = useLoaded(getCasePolicy);
  const [draft, setDraft] = useState<PolicyDraft | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  useEffect(() => {
    if (policy.status === 'ready') setDraft(toDraft(policy.data));
  }, [policy]);

  if (policy.status === 'failed') return <ErrorAlert error={policy.error} />;
  if (policy.status === 'loading' || !draft) return <p className="muted">Loading the case policy…</p>;
  const set = (key: keyof PolicyDraft) => (value: string) => setDraft({ ...draft, [key]: value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    const seconds = (v: string) => Math.round(Number(v) * 60);
    const body: UpdateCasePolicyBody = {
      urgentStepSeconds: seconds(draft.urgentMinutes),
      emergencyStepSeconds: seconds(draft.emergencyMinutes),
      renotifySeconds: seconds(draft.renotifyMinutes),
      urgentPerHour: Number(draft.urgentPerHour),
      retentionDaysAfterClose: draft.retentionDays.trim() === '' ? null : Number(draft.retentionDays),
    };
    const numbers = [body.urgentStepSeconds, body.emergencyStepSeconds, body.renotifySeconds, body.urgentPerHour];
    if (numbers.some((n) => !Number.isFinite(n) || n! <= 0) || (body.retentionDaysAfterClose !== null && !Number.isInteger(body.retentionDaysAfterClose))) {
      return setProblem('Enter positive numbers; leave the retention empty to keep closed cases.');
    }
    setProblem(null);
    await action.run(async () => {
      const saved = await updateCasePolicy(body);
      replace(saved);
      setDone('Case policy saved.');
    });
  };

  return (
    <section className="card" aria-labelledby="case-policy-heading">
      <h2 id="case-policy-heading" className="card-title">
        Case policy
      </h2>
      <form className="form-grid" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label="Urgent: minutes per step" type="number" min={1} step="any" value={draft.urgentMinutes} onChange={(e) => set('urgentMinutes')(e.target.value)} hint="Default 15." />
        <TextField label="Emergency: minutes per step" type="number" min={0.5} step="any" value={draft.emergencyMinutes} onChange={(e) => set('emergencyMinutes')(e.target.value)} hint="Default 5." />
        <TextField label="Re-notify every (minutes)" type="number" min={0.5} step="any" value={draft.renotifyMinutes} onChange={(e) => set('renotifyMinutes')(e.target.value)} hint="Until someone accepts." />
        <TextField label="Urgent consults per person per hour" type="number" min={1} step={1} value={draft.urgentPerHour} onChange={(e) => set('urgentPerHour')(e.target.value)} hint="Against alarm fatigue." />
        <TextField
          label="Keep closed cases (days)"
          type="number"
          min={1}
          step={1}
          value={draft.retentionDays}
          onChange={(e) => set('retentionDays')(e.target.value)}
          hint="Messages of a closed case are deleted from the server after this many days. Empty: keep them."
        />
        {problem && <p className="field-error form-grid-full">{problem}</p>}
        <div className="form-grid-actions form-grid-full">
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Saving…' : 'Save policy'}
          </button>
        </div>
      </form>
      <ErrorAlert error={action.error} />
      <StatusMessage tone="success">{done}</StatusMessage>
    </section>
  );
}
