import { useRef, useState } from 'react';
import { regenerateRecoveryCodes } from '../api/me';
import { useActiveSession } from '../app/active-session';
import { Badge } from '../ui/Badge';
import { ConfirmDialog } from '../ui/ConfirmDialog';

export function RecoveryCodeSetting({ onRecoveryCodes }: { onRecoveryCodes: (codes: string[]) => void }) {
  const { me, refresh } = useActiveSession();
  const [confirming, setConfirming] = useState(false);
  // Handed over only once the confirmation has closed, so the two dialogs never overlap.
  const issued = useRef<string[]>([]);
  const hasSecondFactor = me.mfa.totp || me.mfa.passkeys > 0;
  const left = me.mfa.recoveryCodesLeft;

  return (
    <div className="setting">
      <div className="setting-header">
        <div>
          <h3 className="setting-title">Recovery codes</h3>
          <p className="muted small">
            {hasSecondFactor ? 'One-time codes for when you cannot use your phone or passkey.' : 'Available once you have set up a second step.'}
          </p>
        </div>
        {hasSecondFactor && <Badge tone={left <= 2 ? 'warning' : 'neutral'}>{`${left} unused`}</Badge>}
        <button
          type="button"
          className="button button-secondary button-small"
          disabled={!hasSecondFactor}
          onClick={() => setConfirming(true)}
        >
          Generate new recovery codes
        </button>
      </div>
      {confirming && (
        <ConfirmDialog
          title="Generate new recovery codes?"
          confirmLabel="Generate new codes"
          tone="primary"
          onConfirm={async () => {
            issued.current = (await regenerateRecoveryCodes()).recoveryCodes;
            await refresh();
          }}
          onClose={() => {
            setConfirming(false);
            onRecoveryCodes(issued.current);
            issued.current = [];
          }}
        >
          <p>Your current recovery codes will stop working. You will see the new codes once.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
