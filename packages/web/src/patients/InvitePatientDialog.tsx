import { useState, type FormEvent } from 'react';
import type { CreatedPatientInvite } from '@consilium/protocol';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { CopyButton } from '../ui/CopyButton';
import { formatDateTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useMessenger } from '../messaging/MessengerProvider';

/**
 * Opens a patient conversation and shows, once, the link to send the patient and the code to tell
 * them in person (never send both the same way: the code is what proves the link reached them).
 */
export function InvitePatientDialog({ onClose }: { onClose: () => void }) {
  const messenger = useMessenger();
  const [label, setLabel] = useState('');
  const [labelError, setLabelError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedPatientInvite | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!label.trim()) return setLabelError('Enter how this conversation should be shown to you, for example “Patient, bed 12”.');
    setLabelError(null);
    if (!messenger) return;
    await action.run(async () => setCreated(await messenger.invitePatient(label.trim())));
  };

  return (
    <Dialog title="Invite a patient" onClose={onClose} description="A private conversation between you and one patient. The patient sees nothing else of Consilium.">
      {created ? (
        <div className="stack">
          <p>Send this link to the patient (for example by text message):</p>
          <p className="invite-link" data-testid="patient-invite-link">
            {created.inviteUrl}
          </p>
          <CopyButton text={created.inviteUrl} label="Copy link" />
          <p>
            Tell them this code <strong>in person or by phone</strong>, not with the link:
          </p>
          <p className="patient-code" data-testid="patient-invite-code">
            {created.code}
          </p>
          <p className="muted small">The invitation works once and expires {formatDateTime(created.invite.expiresAt)}. Five wrong codes end it.</p>
          <div className="button-row button-row-end">
            <button type="button" className="button button-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
          <TextField
            label="Shown to you as"
            hint="No names or record numbers: this label is stored by the server."
            maxLength={80}
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            error={labelError}
          />
          <ErrorAlert error={action.error} />
          <div className="button-row button-row-end">
            <button type="button" className="button button-secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="button button-primary" disabled={action.pending}>
              {action.pending ? 'Creating…' : 'Create invitation'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
