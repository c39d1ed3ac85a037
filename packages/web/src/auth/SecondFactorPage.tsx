import { useState, type FormEvent } from 'react';
import type { MfaMethod } from '@consilium/protocol';
import { verifyRecoveryCode, verifyTotp } from '../api/auth';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { AuthLayout } from './AuthLayout';
import { explainPasskeyError, proveWithPasskey } from './passkey-ceremony';
import { useRetryCountdown } from './use-retry-countdown';
import { TotpCodeField, normaliseTotp } from './TotpCodeField';

interface SecondFactorPageProps {
  methods: MfaMethod[];
  onVerified: () => Promise<void>;
  onCancel: () => void;
}

type CodeKind = 'totp' | 'recovery';

export function SecondFactorPage({ methods, onVerified, onCancel }: SecondFactorPageProps) {
  const hasTotp = methods.includes('totp');
  const hasPasskey = methods.includes('passkey');
  const hasRecovery = methods.includes('recovery_code');
  const [kind, setKind] = useState<CodeKind | null>(hasTotp ? 'totp' : hasPasskey ? null : 'recovery');
  const [code, setCode] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const action = useAction();
  const waiting = useRetryCountdown(action.error);

  const switchTo = (next: CodeKind) => {
    setKind(next);
    setCode('');
    setFieldError(null);
    action.setError(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (kind === 'totp') {
      const totp = normaliseTotp(code);
      if (!/^\d{6}$/.test(totp)) return setFieldError('Enter the 6-digit code from your authenticator app.');
      setFieldError(null);
      await action.run(async () => {
        await verifyTotp({ code: totp });
        await onVerified();
      });
    } else if (kind === 'recovery') {
      if (!code.trim()) return setFieldError('Enter one of your recovery codes.');
      setFieldError(null);
      await action.run(async () => {
        await verifyRecoveryCode({ code: code.trim() });
        await onVerified();
      });
    }
    setCode('');
  };

  const verifyWithPasskey = () =>
    action.run(async () => {
      try {
        await proveWithPasskey();
      } catch (error) {
        throw explainPasskeyError(error);
      }
      await onVerified();
    });

  return (
    <AuthLayout>
      <PageHeading focus="never">Two-step verification</PageHeading>
      <p className="lead">
        {kind === 'totp'
          ? 'Enter the 6-digit code your authenticator app shows for Consilium.'
          : kind === 'recovery'
            ? 'Enter one of the recovery codes you saved when you set up two-step verification. Each code works once.'
            : 'Confirm it is you with the passkey on this device or your security key.'}
      </p>

      {kind !== null && (
        <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
          {kind === 'totp' ? (
            <TotpCodeField value={code} onChange={setCode} error={fieldError} autoFocus />
          ) : (
            <TextField
              label="Recovery code"
              name="recovery-code"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              placeholder="xxxxx-xxxxx"
              className="input-code"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              error={fieldError}
            />
          )}
          <ErrorAlert error={action.error} />
          <button type="submit" className="button button-primary button-block" disabled={action.pending || waiting}>
            {action.pending ? 'Checking…' : 'Verify'}
          </button>
        </form>
      )}
      {kind === null && <ErrorAlert error={action.error} />}

      <div className="auth-alternatives">
        {hasPasskey && (
          <button
            type="button"
            className={`button ${kind === null ? 'button-primary' : 'button-secondary'} button-block`}
            onClick={() => void verifyWithPasskey()}
            disabled={action.pending || waiting}
          >
            Use a passkey
          </button>
        )}
        {kind !== 'recovery' && hasRecovery && (
          <button type="button" className="link-button" onClick={() => switchTo('recovery')}>
            Use a recovery code instead
          </button>
        )}
        {kind !== 'totp' && hasTotp && (
          <button type="button" className="link-button" onClick={() => switchTo('totp')}>
            Use your authenticator app instead
          </button>
        )}
        <button type="button" className="link-button link-button-muted" onClick={onCancel}>
          Back to sign-in
        </button>
      </div>
    </AuthLayout>
  );
}
