import { useState } from 'react';
import { Dialog } from '../ui/Dialog';
import { RecoveryCodesPanel } from '../auth/RecoveryCodesPanel';
import { AuthenticatorAppSetting } from './AuthenticatorAppSetting';
import { PasskeySetting } from './PasskeySetting';
import { RecoveryCodeSetting } from './RecoveryCodeSetting';

/** Second factors of the signed-in account: authenticator app, passkeys, recovery codes. */
export function TwoStepSection() {
  const [freshCodes, setFreshCodes] = useState<string[] | null>(null);
  const showCodes = (codes: string[]) => {
    if (codes.length > 0) setFreshCodes(codes);
  };

  return (
    <section className="card" aria-labelledby="two-step-heading">
      <h2 id="two-step-heading" className="card-title">
        Two-step verification
      </h2>
      <p className="muted">A second step at sign-in keeps your account safe even if someone learns your password.</p>
      <AuthenticatorAppSetting onRecoveryCodes={showCodes} />
      <PasskeySetting onRecoveryCodes={showCodes} />
      <RecoveryCodeSetting onRecoveryCodes={showCodes} />
      {freshCodes && (
        <Dialog title="Save your recovery codes" onClose={() => setFreshCodes(null)}>
          <RecoveryCodesPanel codes={freshCodes} onDone={() => setFreshCodes(null)} />
        </Dialog>
      )}
    </section>
  );
}
