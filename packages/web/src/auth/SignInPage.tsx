import { useState, type FormEvent } from 'react';
import type { SignInResult } from '@consilium/protocol';
import { signIn } from '../api/auth';
import { ApiError } from '../api/client';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { useRetryCountdown } from './use-retry-countdown';
import { AuthLayout } from './AuthLayout';

interface SignInPageProps {
  /** Why the user is here again (idle logoff, expired session, new account). */
  notice: string | null;
  initialEmail: string;
  onSignedIn: (result: SignInResult) => Promise<void>;
}

export function SignInPage({ notice, initialEmail, onSignedIn }: SignInPageProps) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [missing, setMissing] = useState<{ email?: string; password?: string }>({});
  const action = useAction();
  const waiting = useRetryCountdown(action.error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problems = {
      ...(email.trim() ? {} : { email: 'Enter your e-mail address.' }),
      ...(password ? {} : { password: 'Enter your password.' }),
    };
    setMissing(problems);
    if (problems.email || problems.password) return;
    await action.run(async () => {
      try {
        await onSignedIn(await signIn({ email: email.trim(), password }));
      } catch (error) {
        if (error instanceof ApiError && error.code === 'INVALID_CREDENTIALS') setPassword('');
        throw error;
      }
    });
  };

  return (
    <AuthLayout>
      <PageHeading title="Sign in" focus="never">
        Sign in to Consilium
      </PageHeading>
      <StatusMessage>{notice}</StatusMessage>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="E-mail"
          type="email"
          name="email"
          autoComplete="username"
          autoFocus={!initialEmail}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={missing.email}
          required
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          autoFocus={Boolean(initialEmail)}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={missing.password}
          required
        />
        <ErrorAlert error={action.error} />
        <button type="submit" className="button button-primary button-block" disabled={action.pending || waiting}>
          {action.pending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="auth-aside">New here? Ask your organisation's administrator for an invitation link.</p>
    </AuthLayout>
  );
}
