import { useCallback, useState, type FormEvent } from 'react';
import { acceptPatientInvite, previewPatientInvite } from '../api/patients';
import { AuthLayout } from '../auth/AuthLayout';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import { formatDateTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { InvitationNotReady, NewPasswordFields, newPasswordProblems } from '../invite/InvitationScreens';

type Problems = Partial<Record<'code' | 'email' | 'displayName' | 'password' | 'confirmation', string>>;

/**
 * Where a patient's invitation link lands. The code their care team gave them in person proves the
 * link reached the right person; then they choose how to sign in. They will see only the
 * conversation they were invited to.
 */
export function PatientInvitePage({ token, onAccepted }: { token: string; onAccepted: (email: string) => Promise<void> }) {
  const load = useCallback(() => previewPatientInvite(token), [token]);
  const [preview] = useLoaded(load);
  const [code, setCode] = useState('');
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const action = useAction();

  if (preview.status !== 'ready') return <InvitationNotReady preview={preview} />;
  const invite = preview.data;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {
      ...(!/^\d{6}$/.test(code.trim()) && { code: 'Enter the 6-digit code your care team gave you.' }),
      ...(!/^[^\s@]+@[^\s@]+$/.test(email.trim()) && { email: 'Enter your e-mail address.' }),
      ...(!displayName.trim() && { displayName: 'Enter your name.' }),
      ...newPasswordProblems(password, confirmation),
    };
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    await action.run(async () => {
      await acceptPatientInvite(token, { code: code.trim(), email: email.trim(), displayName: displayName.trim(), password });
      await onAccepted(email.trim());
    });
  };

  return (
    <AuthLayout>
      <PageHeading focus="never">Talk securely with your care team</PageHeading>
      <p className="lead">
        {invite.invitedBy} at {invite.organisationName} invited you to a private, end-to-end encrypted conversation. Only you and your care team can
        read it.
      </p>
      <p className="muted small">This invitation expires {formatDateTime(invite.expiresAt)}.</p>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label="Code from your care team" inputMode="numeric" autoComplete="one-time-code" maxLength={6} autoFocus value={code} onChange={(e) => setCode(e.target.value)} error={problems.code} />
        <TextField label="E-mail" type="email" name="username" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={problems.email} />
        <TextField label="Your name" name="name" autoComplete="name" maxLength={120} value={displayName} onChange={(e) => setDisplayName(e.target.value)} error={problems.displayName} />
        <NewPasswordFields password={password} confirmation={confirmation} onPassword={setPassword} onConfirmation={setConfirmation} problems={problems} />
        <ErrorAlert error={action.error} />
        <button type="submit" className="button button-primary button-block" disabled={action.pending}>
          {action.pending ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
    </AuthLayout>
  );
}
