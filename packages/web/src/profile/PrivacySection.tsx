import { useState } from 'react';
import { getPreferences, updatePreferences } from '../api/me';
import { ErrorAlert } from '../ui/ErrorAlert';
import { CheckboxField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';

/**
 * "Send read receipts": reciprocal, as in Signal and WhatsApp, and applied by the server (it keeps
 * no read marker for an account that turned it off, and serves it no one's read state).
 */
export function PrivacySection() {
  const [preferences, , replace] = useLoaded(getPreferences);
  const action = useAction();
  // The choice shows at once, the box disabled until the server has it; then the server's answer
  // shows (the old value again if saving failed, with the error below).
  const [asked, setAsked] = useState<boolean | null>(null);
  return (
    <section className="card" aria-labelledby="privacy-heading">
      <h2 id="privacy-heading" className="card-title">
        Privacy
      </h2>
      {preferences.status === 'loading' && <p className="muted">Loading…</p>}
      {preferences.status === 'failed' && <ErrorAlert error={preferences.error} />}
      {preferences.status === 'ready' && (
        <CheckboxField
          label="Send read receipts"
          hint="When on, the people you message see when you have read their messages. When off, they see only that a message was delivered to you, and you likewise see only “Delivered”, never “Read”, under your own messages."
          checked={asked ?? preferences.data.readReceipts}
          disabled={action.pending}
          onChange={(e) => {
            const readReceipts = e.target.checked;
            setAsked(readReceipts);
            void action.run(async () => {
              try {
                replace(await updatePreferences({ readReceipts }));
              } finally {
                setAsked(null);
              }
            });
          }}
        />
      )}
      <ErrorAlert error={action.error} />
    </section>
  );
}
