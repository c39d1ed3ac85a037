import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@consilium/protocol';
import { AuthLayout } from '../auth/AuthLayout';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
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
