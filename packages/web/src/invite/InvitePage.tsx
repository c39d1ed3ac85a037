import { useCallback, useState, type FormEvent } from 'react';
import { PASSWORD_MIN_LENGTH } from '@consilium/protocol';
import { acceptInvite, previewInvite } from '../api/invites';
import { AuthLayout } from '../auth/AuthLayout';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import { formatDateTime } from '../ui/format';
import { roleLabels } from '../ui/labels';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { InvitationNotReady, NewPasswordFields, newPasswordProblems } from './InvitationScreens';

interface InvitePageProps {
  token: string;
  onAccepted: (email: string) => Promise<void>;
}

type Problems = Partial<Record<'displayName' | 'password' | 'confirmation', string>>;

/** Where an invitation link lands: the invitee picks a name and password and becomes a member. */
export function InvitePage({ token, onAccepted }: InvitePageProps) {
  const load = useCallback(() => previewInvite(token), [token]);
  const [preview] = useLoaded(load);
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const action = useAction();

  if (preview.status !== 'ready') return <InvitationNotReady preview={preview} signInLink />;
  const invite = preview.data;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {
      ...(!displayName.trim() && { displayName: 'Enter your name as colleagues know you, for example “Dr Jane Smith”.' }),
      ...newPasswordProblems(password, confirmation),
    };
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    await action.run(async () => {
      await acceptInvite(token, { displayName: displayName.trim(), password });
      await onAccepted(invite.email);
    });
  };

  return (
    <AuthLayout>
      <PageHeading focus="never">Join {invite.organisationName}</PageHeading>
      <p className="lead">You have been invited to Consilium as {roleLabels[invite.role].toLowerCase()}.</p>
      <dl className="details details-compact">
        <div>
          <dt>Organisation</dt>
          <dd>{invite.organisationName}</dd>
        </div>
        <div>
          <dt>E-mail</dt>
          <dd>{invite.email}</dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{roleLabels[invite.role]}</dd>
        </div>
        <div>
          <dt>Invitation expires</dt>
          <dd>{formatDateTime(invite.expiresAt)}</dd>
        </div>
      </dl>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        {/* Lets password managers store the new password under the right account. */}
        <input type="email" name="username" autoComplete="username" value={invite.email} readOnly hidden />
        <TextField
          label="Display name"
          name="name"
          autoComplete="name"
          autoFocus
          maxLength={120}
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={problems.displayName}
        />
        <NewPasswordFields
          password={password}
          confirmation={confirmation}
          onPassword={setPassword}
          onConfirmation={setConfirmation}
          problems={problems}
          hint={`At least ${PASSWORD_MIN_LENGTH} characters. A few unrelated words make a strong password that is easy to type.`}
        />
        <ErrorAlert error={action.error} />
        <button type="submit" className="button button-primary button-block" disabled={action.pending}>
          {action.pending ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
    </AuthLayout>
  );
}
