import { useState, type FormEvent } from 'react';
import { licenceRegisters, verificationLevels, type LicenceRegister, type Member, type SetVerificationBody, type VerificationLevel } from '@consilium/protocol';
import { setMemberVerification } from '../api/org';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { SelectField, TextAreaField, TextField } from '../ui/fields';
import { formatDateTime } from '../ui/format';
import { registerLabels, verificationLabels } from '../ui/labels';
import { useAction } from '../ui/use-action';

interface VerifyMemberDialogProps {
  member: Member;
  onSaved: (member: Member) => void;
  onClose: () => void;
}

const levelOptions = verificationLevels.map((level) => ({ value: level, label: verificationLabels[level] }));
const registerOptions = licenceRegisters.map((register) => ({ value: register, label: registerLabels[register] }));

type Problems = Partial<Record<'licenceNumber' | 'evidence', string>>;

/** Records how an admin confirmed who a member is, and optionally their professional licence. */
export function VerifyMemberDialog({ member, onSaved, onClose }: VerifyMemberDialogProps) {
  const current = member.verification;
  const [level, setLevel] = useState<VerificationLevel>(current.level === 'unverified' ? 'identity_verified' : current.level);
  const [register, setRegister] = useState<LicenceRegister>(current.register ?? 'BIG');
  const [licenceNumber, setLicenceNumber] = useState(current.licenceNumber ?? '');
  const [evidence, setEvidence] = useState(current.evidence ?? '');
  const [problems, setProblems] = useState<Problems>({});
  const action = useAction();
  const needsLicence = level === 'licence_verified';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {
      ...(needsLicence && !licenceNumber.trim() && { licenceNumber: 'Enter the registration number you checked.' }),
      ...(level !== 'unverified' && !evidence.trim() && { evidence: 'Say how you checked, so others can rely on it later.' }),
    };
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const body: SetVerificationBody = {
      level,
      ...(needsLicence && { register, licenceNumber: licenceNumber.trim() }),
      ...(level !== 'unverified' && { evidence: evidence.trim() }),
    };
    await action.run(async () => onSaved(await setMemberVerification(member.id, body)));
  };

  return (
    <Dialog title={`Verify ${member.displayName}`} onClose={onClose} description={member.email}>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <p className="notice">
          Unverified accounts cannot be added to patient conversations. Verify someone only after you have checked their identity yourself,
          for example with an ID document in person, and for a licence, in the official register.
        </p>
        {current.verifiedAt && (
          <p className="muted small">
            Currently {verificationLabels[current.level].toLowerCase()} since {formatDateTime(current.verifiedAt)}.
          </p>
        )}
        <SelectField label="Verification level" value={level} options={levelOptions} onChange={(e) => setLevel(e.target.value as VerificationLevel)} data-autofocus />
        {needsLicence && (
          <>
            <SelectField label="Register" value={register} options={registerOptions} onChange={(e) => setRegister(e.target.value as LicenceRegister)} />
            <TextField
              label="Licence number"
              value={licenceNumber}
              maxLength={64}
              autoComplete="off"
              onChange={(e) => setLicenceNumber(e.target.value)}
              error={problems.licenceNumber}
            />
          </>
        )}
        {level !== 'unverified' && (
          <TextAreaField
            label="Evidence"
            hint="How you checked, for example “Passport seen in person” or “BIG register lookup on 23 Nov”."
            value={evidence}
            maxLength={500}
            rows={3}
            onChange={(e) => setEvidence(e.target.value)}
            error={problems.evidence}
          />
        )}
        <ErrorAlert error={action.error} />
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Saving…' : level === 'unverified' ? 'Mark as unverified' : 'Save verification'}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
