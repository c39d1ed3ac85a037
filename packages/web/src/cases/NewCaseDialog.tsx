import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { AttachmentDescriptor, DirectoryEntry, OnCallRoster, Urgency } from '@consilium/protocol';
import { ZodError } from 'zod';
import { ApiError } from '../api/client';
import { getOnCall } from '../api/cases';
import { listDepartments } from '../api/org';
import { navigate } from '../app/route';
import { useMessenger } from '../messaging/MessengerProvider';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { describeError } from '../ui/error-text';
import { SelectField, TextAreaField, TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { ageBands, encodeCaseHeader, MAX_SBAR_FIELD, sexLabels, type AgeBand, type PatientSex } from './case-content';
import { urgencyLabels } from './case-labels';
import { CaseColleaguePicker } from './CaseColleaguePicker';
import { AttachButton, AttachmentDraftPanel, draftOf, type AttachmentDraft } from '../attachments/AttachmentDraftPanel';
import { sendAttachment } from '../attachments/vault';

const urgencies: Urgency[] = ['routine', 'urgent', 'emergency'];
const urgencyHints: Record<Urgency, string> = {
  routine: 'Reaches whoever is first on call, without paging.',
  urgent: 'Pages the on-call chain step by step until someone accepts.',
  emergency: 'Pages the on-call chain with the shortest timeouts until someone accepts.',
};

/** Titles for the refusals a clinician can act on; the server's message says what to do. */
const refusalTitles: Record<string, string> = {
  NO_ONE_ON_CALL: 'Nobody is on call',
  NOT_VERIFIED: 'Verification needed',
  RATE_LIMITED: 'Too many urgent consults',
};

interface Draft {
  departmentId: string;
  urgency: Urgency;
  initials: string;
  ageBand: AgeBand | '';
  sex: PatientSex | '';
  localIdentifier: string;
  situation: string;
  background: string;
  assessment: string;
  recommendation: string;
}

const empty: Draft = {
  departmentId: '',
  urgency: 'routine',
  initials: '',
  ageBand: '',
  sex: '',
  localIdentifier: '',
  situation: '',
  background: '',
  assessment: '',
  recommendation: '',
};

type Problems = Partial<Record<keyof Draft, string>>;

function check(d: Draft): Problems {
  const problems: Problems = {};
  if (!d.departmentId) problems.departmentId = 'Choose the specialty you are asking.';
  if (!d.initials.trim()) problems.initials = 'Enter the patient’s initials (not the name).';
  if (!d.ageBand) problems.ageBand = 'Choose an age band.';
  if (!d.sex) problems.sex = 'Choose the patient’s sex.';
  if (!d.situation.trim()) problems.situation = 'Describe the situation.';
  if (!d.recommendation.trim()) problems.recommendation = 'Say what you are asking.';
  return problems;
}

function RefusalAlert({ error }: { error: unknown }) {
  const title = error instanceof ApiError ? refusalTitles[error.code] : undefined;
  if (!title) return <ErrorAlert error={error} />;
  return (
    <div role="alert" aria-live="assertive" className="alert-region">
      <div className="alert alert-error">
        <p>
          <strong>{title}.</strong>
        </p>
        <p>{describeError(error)}</p>
      </div>
    </div>
  );
}

/** Who would be paged now for a department, step by step, so nobody is paged by surprise. */
function OnCallNow({ departmentId }: { departmentId: string }) {
  const load = useCallback(() => getOnCall(departmentId), [departmentId]);
  const [roster] = useLoaded<OnCallRoster>(load);
  if (roster.status === 'loading') return <p className="muted small">Looking up who is on call…</p>;
  if (roster.status === 'failed') return <ErrorAlert error={roster.error} />;
  const { now } = roster.data;
  return (
    <div className="case-oncall-now" aria-live="polite">
      <p className="small">
        <strong>On call now for {roster.data.departmentName}</strong>
      </p>
      {now.length === 0 ? (
        <p className="small">Nobody is on call now. An urgent consult cannot page anyone: call the department.</p>
      ) : (
        <ol className="case-oncall-steps small" aria-label={`On call now for ${roster.data.departmentName}`}>
          {now.map((s) => (
            <li key={s.step}>
              Step {s.step}: {s.people.map((p) => p.displayName).join(', ')}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/**
 * Asks a specialty for a consult: a pseudonymous patient reference and the SBAR question, sent
 * end-to-end encrypted as the case's first message; the server learns only department and urgency.
 */
export function NewCaseDialog({ onClose }: { onClose: () => void }) {
  const messenger = useMessenger();
  const [departments] = useLoaded(listDepartments);
  const [draft, setDraft] = useState<Draft>(empty);
  const [problems, setProblems] = useState<Problems>({});
  const [colleagues, setColleagues] = useState<DirectoryEntry[]>([]);
  const [photo, setPhoto] = useState<AttachmentDraft | null>(null);
  const [photoError, setPhotoError] = useState<unknown>(null);
  /**
   * The server recorded the case but a later step failed on this device: the group setup or the
   * consult message (`setup`), or the photo (`photo`). The form then never opens a second case (that
   * would page the chain twice): it offers to finish this one (Retry) or to go to it. The header
   * stays in memory here (and sealed in the engine's store), never in clear on disk.
   */
  const [opened, setOpened] = useState<{ id: string; header: string; stage: 'setup' | 'photo' } | null>(null);
  /** The photo once uploaded, so a retry does not upload it again. */
  const uploaded = useRef<AttachmentDescriptor[] | null>(null);
  const action = useAction();
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  // Show problems again as soon as the fields are fixed.
  useEffect(() => {
    if (Object.keys(problems).length > 0) setProblems(check(draft));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft]);

  /**
   * Makes the group, sends the consult, then the photo; safe to run again after a failure (the
   * engine skips what is done and never sends the consult twice).
   */
  const finish = async (id: string, header: string) => {
    if (!messenger) throw new Error('secure messaging is still starting on this device');
    // Metadata stripped, encrypted and uploaded for the case; its key follows in the next message.
    const upload = photo ? async () => (uploaded.current ??= [await sendAttachment(id, photo.file, photo.edits)]) : undefined;
    try {
      await messenger.resumeCase(id, header, upload);
    } catch (error) {
      const consultSent = !(await messenger.caseSetupPending(id).catch(() => true));
      setOpened({ id, header, stage: consultSent ? 'photo' : 'setup' });
      throw consultSent ? new Error(`the consult was sent, but the photo was not (${describeError(error)}). Retry, or open the case and attach it there.`) : error;
    }
    onClose();
    navigate({ name: 'case', id });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = check(draft);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    await action.run(async () => {
      if (!messenger) throw new Error('secure messaging is still starting on this device');
      let header: string;
      try {
        header = encodeCaseHeader({
          patient: {
            initials: draft.initials,
            ageBand: draft.ageBand as AgeBand,
            sex: draft.sex as PatientSex,
            ...(draft.localIdentifier.trim() && { localIdentifier: draft.localIdentifier }),
          },
          sbar: { situation: draft.situation, background: draft.background, assessment: draft.assessment, recommendation: draft.recommendation },
        });
      } catch (error) {
        throw new Error(error instanceof ZodError ? `the consult is not complete: ${error.issues.map((i) => i.message).join('; ')}` : String(error));
      }
      const id = await messenger.openCase({ departmentId: draft.departmentId, urgency: draft.urgency, memberAccountIds: colleagues.map((c) => c.accountId) }, header);
      await finish(id, header);
    });
  };

  const departmentOptions =
    departments.status === 'ready'
      ? [{ value: '', label: 'Choose a specialty' }, ...[...departments.data.departments].sort((a, b) => a.name.localeCompare(b.name)).map((d) => ({ value: d.id, label: d.name }))]
      : [{ value: '', label: departments.status === 'loading' ? 'Loading…' : 'Departments could not be loaded' }];

  return (
    <Dialog title="New consult" onClose={onClose} wide description="Ask a specialty for advice. Everything about the patient is end-to-end encrypted.">
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        {departments.status === 'failed' && <ErrorAlert error={departments.error} />}
        <fieldset className="case-fieldset">
          <legend>Who you ask</legend>
          <SelectField
            label="Specialty"
            options={departmentOptions}
            value={draft.departmentId}
            onChange={(e) => set('departmentId')(e.target.value)}
            data-autofocus
            required
            aria-invalid={problems.departmentId ? true : undefined}
          />
          {problems.departmentId && <p className="field-error">{problems.departmentId}</p>}
          {draft.departmentId && <OnCallNow key={draft.departmentId} departmentId={draft.departmentId} />}
          <div className="case-urgency" role="radiogroup" aria-label="Urgency">
            {urgencies.map((u) => (
              <label key={u} className={`case-urgency-option case-urgency-${u}`}>
                <input type="radio" name="urgency" value={u} checked={draft.urgency === u} onChange={() => set('urgency')(u)} />
                <span>
                  <strong>{urgencyLabels[u]}</strong>
                  <span className="small muted"> {urgencyHints[u]}</span>
                </span>
              </label>
            ))}
          </div>
          <CaseColleaguePicker chosen={colleagues} onChange={setColleagues} />
          {draft.urgency !== 'routine' && (
            <p className="notice small">
              {urgencyLabels[draft.urgency]} consults page the on-call chain and must be explicitly accepted; unanswered pages escalate to the next step.
            </p>
          )}
        </fieldset>

        <fieldset className="case-fieldset">
          <legend>Patient reference</legend>
          <div className="case-patient-grid">
            <TextField label="Initials" value={draft.initials} maxLength={12} autoComplete="off" onChange={(e) => set('initials')(e.target.value)} error={problems.initials} hint="Initials only, never the name." />
            <SelectField
              label="Age band"
              options={[{ value: '', label: 'Choose' }, ...ageBands.map((b) => ({ value: b, label: b }))]}
              value={draft.ageBand}
              onChange={(e) => set('ageBand')(e.target.value as AgeBand | '')}
              aria-invalid={problems.ageBand ? true : undefined}
            />
            <SelectField
              label="Sex"
              options={[{ value: '', label: 'Choose' }, ...(Object.keys(sexLabels) as PatientSex[]).map((s) => ({ value: s, label: sexLabels[s] }))]}
              value={draft.sex}
              onChange={(e) => set('sex')(e.target.value as PatientSex | '')}
              aria-invalid={problems.sex ? true : undefined}
            />
          </div>
          {(problems.ageBand || problems.sex) && <p className="field-error">{[problems.ageBand, problems.sex].filter(Boolean).join(' ')}</p>}
          <TextField
            label="Local identifier (optional)"
            value={draft.localIdentifier}
            maxLength={64}
            autoComplete="off"
            onChange={(e) => set('localIdentifier')(e.target.value)}
            hint="For example the hospital number, so colleagues find the record. It stays end-to-end encrypted: only the people in this case see it, never the server. Leave it out if they do not need it."
          />
        </fieldset>

        <fieldset className="case-fieldset">
          <legend>Consult (SBAR)</legend>
          <TextAreaField label="Situation" rows={2} maxLength={MAX_SBAR_FIELD} value={draft.situation} onChange={(e) => set('situation')(e.target.value)} error={problems.situation} required hint="What is happening now." />
          <TextAreaField label="Background" rows={2} maxLength={MAX_SBAR_FIELD} value={draft.background} onChange={(e) => set('background')(e.target.value)} hint="History, medication, relevant results." />
          <TextAreaField label="Assessment" rows={2} maxLength={MAX_SBAR_FIELD} value={draft.assessment} onChange={(e) => set('assessment')(e.target.value)} hint="What you think the problem is." />
          <TextAreaField
            label="Recommendation / question"
            rows={2}
            maxLength={MAX_SBAR_FIELD}
            value={draft.recommendation}
            onChange={(e) => set('recommendation')(e.target.value)}
            error={problems.recommendation}
            required
            hint="What you ask of the consultant."
          />
        </fieldset>

        <fieldset className="case-fieldset">
          <legend>Photo or document (optional)</legend>
          <p className="small muted">Location and camera details are removed before it is encrypted; blur faces or name labels below.</p>
          {photo ? (
            <AttachmentDraftPanel draft={photo} onChange={setPhoto} onRemove={() => setPhoto(null)} />
          ) : (
            <div>
              <AttachButton
                onPick={(file) => {
                  setPhotoError(null);
                  try {
                    setPhoto(draftOf(file));
                  } catch (error) {
                    setPhotoError(error);
                  }
                }}
                disabled={action.pending}
              />
            </div>
          )}
          <ErrorAlert error={photoError} />
        </fieldset>

        <RefusalAlert error={action.error} />
        {opened?.stage === 'setup' && (
          <p className="notice small" role="status">
            The case was opened, but setting it up on this device did not finish, so the people in it cannot read the consult yet. Retry when the connection is back (the consult
            is sent once, never twice); open the case to see who is paged, and call them if it is urgent.
          </p>
        )}
        {opened && (
          <div className="button-row button-row-end">
            <button
              type="button"
              className="button button-secondary"
              onClick={() => {
                onClose();
                navigate({ name: 'case', id: opened.id });
              }}
            >
              Open the case
            </button>
            <button type="button" className="button button-primary" disabled={action.pending} onClick={() => void action.run(() => finish(opened.id, opened.header))}>
              {action.pending ? 'Retrying…' : 'Retry'}
            </button>
          </div>
        )}
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={action.pending || !messenger || opened !== null}>
            {action.pending ? 'Sending consult…' : draft.urgency === 'routine' ? 'Send consult' : `Page ${urgencyLabels[draft.urgency].toLowerCase()} consult`}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
