import { useState } from 'react';
import { removeTotp } from '../api/me';
import { useActiveSession } from '../app/active-session';
import { TotpEnrolment } from '../auth/TotpEnrolment';
import { Badge } from '../ui/Badge';
import { ConfirmDialog } from '../ui/ConfirmDialog';

export function AuthenticatorAppSetting({ onRecoveryCodes }: { onRecoveryCodes: (codes: string[]) => void }) {
  const { me, refresh } = useActiveSession();
  const [mode, setMode] = useState<'idle' | 'enrolling' | 'removing'>('idle');

  return (
    <div className="setting">
      <div className="setting-header">
        <div>
          <h3 className="setting-title">Authenticator app</h3>
          <p className="muted small">A 6-digit code from an app on your phone.</p>
        </div>
        <Badge tone={me.mfa.totp ? 'success' : 'neutral'}>{me.mfa.totp ? 'On' : 'Off'}</Badge>
        {mode === 'idle' &&
          (me.mfa.totp ? (
            <button type="button" className="button button-secondary button-small" onClick={() => setMode('removing')}>
              Remove
            </button>
          ) : (
            <button type="button" className="button button-primary button-small" onClick={() => setMode('enrolling')}>
              Set up
            </button>
          ))}
      </div>
      {mode === 'enrolling' && (
        <TotpEnrolment
          onEnrolled={(codes) => {
            setMode('idle');
            onRecoveryCodes(codes);
            void refresh();
          }}
          onCancel={() => setMode('idle')}
        />
      )}
      {mode === 'removing' && (
        <ConfirmDialog
          title="Remove authenticator app?"
          confirmLabel="Remove authenticator app"
          onConfirm={async () => {
            await removeTotp();
            await refresh();
          }}
          onClose={() => setMode('idle')}
        >
          <p>You will no longer be able to sign in with codes from this app. Make sure you have another second step set up.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
