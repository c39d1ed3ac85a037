import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@consilium/protocol';
import { AuthLayout } from '../auth/AuthLayout';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import type { Loaded } from '../ui/use-loaded';

/**
 * What an invitation link (a colleague's or a patient's) shows until its preview is ready: a status
 * line while the invitation is checked, then, if the server refused it, why, with a way to the
 * sign-in page when `signInLink` is set.
 */
export function InvitationNotReady({ preview, signInLink = false }: { preview: Exclude<Loaded<unknown>, { status: 'ready' }>; signInLink?: boolean }) {
  if (preview.status === 'loading') {
    return (
      <AuthLayout>
        <p className="muted" role="status">
          Checking your invitation…
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout>
      <PageHeading>Invitation not valid</PageHeading>
      <ErrorAlert error={preview.error} />
      {signInLink && (
        <p>
          <a href="#/">Go to sign-in</a>
        </p>
      )}
    </AuthLayout>
  );
}

/** What is wrong with a new password and its confirmation, as the form shows it under each field. */
export function newPasswordProblems(password: string, confirmation: string): { password?: string; confirmation?: string } {
  return {
    ...(password.length < PASSWORD_MIN_LENGTH && { password: `Use at least ${PASSWORD_MIN_LENGTH} characters.` }),
    ...(password.length > PASSWORD_MAX_LENGTH && { password: `Use at most ${PASSWORD_MAX_LENGTH} characters.` }),
    ...(confirmation !== password && { confirmation: 'The two passwords do not match.' }),
  };
}

/** The new password and its confirmation, as both invitation forms ask for them. */
export function NewPasswordFields(props: {
  password: string;
  confirmation: string;
  onPassword: (value: string) => void;
  onConfirmation: (value: string) => void;
  problems: { password?: string; confirmation?: string };
  hint?: string;
}) {
  return (
    <>
      <TextField
        label="Password"
        type="password"
        name="new-password"
        autoComplete="new-password"
        value={props.password}
        onChange={(e) => props.onPassword(e.target.value)}
        error={props.problems.password}
        hint={props.hint ?? `At least ${PASSWORD_MIN_LENGTH} characters.`}
      />
      <TextField
        label="Confirm password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        value={props.confirmation}
        onChange={(e) => props.onConfirmation(e.target.value)}
        error={props.problems.confirmation}
      />
    </>
  );
}
