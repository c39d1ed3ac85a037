import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeading } from '../ui/PageHeading';
import { TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { AuthLayout } from './AuthLayout';
import { RecoveryCodesPanel } from './RecoveryCodesPanel';
import { TotpEnrolment } from './TotpEnrolment';
import { createPasskey, explainPasskeyError, passkeysSupported } from './passkey-ceremony';
import { suggestedPasskeyName } from './passkey-name';

interface FactorSetupPageProps {
  organisationName: string;
  /** Called once the user has a second factor (and has seen their recovery codes). */
  onDone: () => Promise<void>;
  onCancel: () => void;
}

type Step = { name: 'totp' } | { name: 'passkey' } | { name: 'codes'; codes: string[] };

/** The forced setup a session lands on when its organisation requires a second factor. */
export function FactorSetupPage({ organisationName, onDone, onCancel }: FactorSetupPageProps) {
  const [step, setStep] = useState<Step>({ name: 'totp' });
  const finish = useAction();

  const enrolled = (codes: string[]) => {
    if (codes.length > 0) setStep({ name: 'codes', codes });
    else void finish.run(onDone);
  };

  if (step.name === 'codes') {
    return (
      <AuthLayout wide>
        <PageHeading focus="always">Save your recovery codes</PageHeading>
        <RecoveryCodesPanel codes={step.codes} onDone={() => void finish.run(onDone)} />
        <ErrorAlert error={finish.error} />
      </AuthLayout>
    );
  }

  return (
    <AuthLayout wide>
      <PageHeading focus="never">Set up two-step verification</PageHeading>
      <p className="lead">
        {organisationName} asks everyone to confirm their sign-in with a second step, so a stolen password alone
        cannot open patient conversations.
      </p>
      {step.name === 'totp' ? (
        <TotpEnrolment onEnrolled={enrolled} />
      ) : (
        <PasskeyEnrolment onEnrolled={enrolled} onBack={() => setStep({ name: 'totp' })} />
      )}
      <ErrorAlert error={finish.error} />
      <div className="auth-alternatives">
        {step.name === 'totp' && passkeysSupported() && (
          <button type="button" className="link-button" onClick={() => setStep({ name: 'passkey' })}>
            Use a passkey instead
          </button>
        )}
        <button type="button" className="link-button link-button-muted" onClick={onCancel}>
          Back to sign-in
        </button>
      </div>
    </AuthLayout>
  );
}

function PasskeyEnrolment({ onEnrolled, onBack }: { onEnrolled: (codes: string[]) => void; onBack: () => void }) {
  const [name, setName] = useState(suggestedPasskeyName);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      try {
        const { recoveryCodes } = await createPasskey(name.trim() || suggestedPasskeyName());
        onEnrolled(recoveryCodes);
      } catch (error) {
        throw explainPasskeyError(error);
      }
    });
  };

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
      <h2 className="card-title">Use a passkey</h2>
      <p>
        A passkey lives on this computer, your phone or a security key, and is unlocked with your fingerprint, face or PIN. Give it a name
        you will recognise later.
      </p>
      <TextField label="Passkey name" value={name} maxLength={60} onChange={(e) => setName(e.target.value)} autoFocus />
      <ErrorAlert error={action.error} />
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={action.pending}>
          {action.pending ? 'Waiting for your passkey…' : 'Create passkey'}
        </button>
        <button type="button" className="button button-secondary" onClick={onBack}>
          Use an authenticator app instead
        </button>
      </div>
    </form>
  );
}
