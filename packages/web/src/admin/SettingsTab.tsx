import { useState, type FormEvent } from 'react';
import { IDLE_TIMEOUT_MAX_MINUTES, IDLE_TIMEOUT_MIN_MINUTES, type UpdateOrgSettingsBody } from '@consilium/protocol';
import { updateOrgSettings } from '../api/org';
import { useActiveSession } from '../app/active-session';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { CheckboxField, TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';

export function SettingsTab() {
  const { me, refresh } = useActiveSession();
  const saved = me.organisation.settings;
  const [requireMfa, setRequireMfa] = useState(saved.requireMfa);
  const [idleMinutes, setIdleMinutes] = useState(String(saved.idleTimeoutMinutes));
  const [minutesError, setMinutesError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    const minutes = Number(idleMinutes);
    if (!Number.isInteger(minutes) || minutes < IDLE_TIMEOUT_MIN_MINUTES || minutes > IDLE_TIMEOUT_MAX_MINUTES) {
      return setMinutesError(`Enter a whole number of minutes from ${IDLE_TIMEOUT_MIN_MINUTES} to ${IDLE_TIMEOUT_MAX_MINUTES}.`);
    }
    setMinutesError(null);
    const changes: UpdateOrgSettingsBody = {
      ...(requireMfa !== saved.requireMfa && { requireMfa }),
      ...(minutes !== saved.idleTimeoutMinutes && { idleTimeoutMinutes: minutes }),
    };
    if (Object.keys(changes).length === 0) return setDone('Nothing to save: the settings are unchanged.');
    await action.run(async () => {
      await updateOrgSettings(changes);
      // The idle timer and every screen read the settings from /me.
      await refresh();
      setDone('Settings saved.');
    });
  };

  return (
    <section className="card" aria-labelledby="settings-heading">
      <h2 id="settings-heading" className="card-title">
        Security settings
      </h2>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <CheckboxField
          label="Require two-step verification"
          hint="Members without an authenticator app or passkey must set one up at their next sign-in."
          checked={requireMfa}
          onChange={(e) => setRequireMfa(e.target.checked)}
        />
        <TextField
          label="Automatic sign-out after inactivity (minutes)"
          type="number"
          inputMode="numeric"
          min={IDLE_TIMEOUT_MIN_MINUTES}
          max={IDLE_TIMEOUT_MAX_MINUTES}
          step={1}
          className="input-narrow"
          value={idleMinutes}
          onChange={(e) => setIdleMinutes(e.target.value)}
          error={minutesError}
          hint={`Between ${IDLE_TIMEOUT_MIN_MINUTES} and ${IDLE_TIMEOUT_MAX_MINUTES} minutes. HIPAA asks for automatic logoff on shared workstations; 15 minutes is common on wards.`}
        />
        <ErrorAlert error={action.error} />
        <StatusMessage tone="success">{done}</StatusMessage>
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
    </section>
  );
}
