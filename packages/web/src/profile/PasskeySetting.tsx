import { useState, type FormEvent } from 'react';
import type { Passkey } from '@consilium/protocol';
import { listPasskeys, removePasskey } from '../api/me';
import { useActiveSession } from '../app/active-session';
import { createPasskey, explainPasskeyError, passkeysSupported } from '../auth/passkey-ceremony';
import { suggestedPasskeyName } from '../auth/passkey-name';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { formatDate } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';

function AddPasskeyDialog({ onAdded, onClose }: { onAdded: (codes: string[]) => void; onClose: () => void }) {
  const [name, setName] = useState(suggestedPasskeyName);
  const [nameError, setNameError] = useState<string | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setNameError('Give the passkey a name.');
    setNameError(null);
    await action.run(async () => {
      try {
        const { recoveryCodes } = await createPasskey(name.trim());
        onAdded(recoveryCodes);
      } catch (error) {
        throw explainPasskeyError(error);
      }
    });
  };

  return (
    <Dialog title="Add a passkey" onClose={onClose} description="Your browser will ask you to confirm with your fingerprint, face, PIN or security key.">
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="Passkey name"
          hint="So you can tell your passkeys apart, for example “Work laptop”."
          value={name}
          maxLength={60}
          onChange={(e) => setName(e.target.value)}
          error={nameError}
          data-autofocus
        />
        <ErrorAlert error={action.error} />
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Waiting for your passkey…' : 'Create passkey'}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function PasskeySetting({ onRecoveryCodes }: { onRecoveryCodes: (codes: string[]) => void }) {
  const { refresh } = useActiveSession();
  const [passkeys, reload] = useLoaded(listPasskeys);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Passkey | null>(null);

  return (
    <div className="setting">
      <div className="setting-header">
        <div>
          <h3 className="setting-title">Passkeys</h3>
          <p className="muted small">Sign in with your fingerprint, face, device PIN or a security key.</p>
        </div>
        {passkeysSupported() && (
          <button type="button" className="button button-secondary button-small" onClick={() => setAdding(true)}>
            Add a passkey
          </button>
        )}
      </div>
      {passkeys.status === 'failed' && <ErrorAlert error={passkeys.error} />}
      {passkeys.status === 'ready' &&
        (passkeys.data.passkeys.length === 0 ? (
          <p className="muted small">No passkeys yet.</p>
        ) : (
          <ul className="list">
            {passkeys.data.passkeys.map((passkey) => (
              <li key={passkey.id} className="list-row">
                <div className="list-row-main">
                  <p className="list-row-title">{passkey.name}</p>
                  <p className="muted small">
                    Added {formatDate(passkey.createdAt)} · {passkey.lastUsedAt ? `last used ${formatDate(passkey.lastUsedAt)}` : 'never used'}
                  </p>
                </div>
                <button
                  type="button"
                  className="button button-secondary button-small"
                  aria-label={`Remove passkey ${passkey.name}`}
                  onClick={() => setRemoving(passkey)}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        ))}
      {adding && (
        <AddPasskeyDialog
          onClose={() => setAdding(false)}
          onAdded={(codes) => {
            setAdding(false);
            reload();
            onRecoveryCodes(codes);
            void refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove passkey “${removing.name}”?`}
          confirmLabel="Remove passkey"
          onConfirm={async () => {
            await removePasskey(removing.id);
            reload();
            await refresh();
          }}
          onClose={() => setRemoving(null)}
        >
          <p>You will no longer be able to sign in with this passkey.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
