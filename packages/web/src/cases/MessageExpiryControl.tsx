import { useCallback, useEffect, useState } from 'react';
import { MAX_MESSAGE_EXPIRY_SECONDS, MIN_MESSAGE_EXPIRY_SECONDS, type Conversation } from '@consilium/protocol';
import { http, segment } from '../api/client';
import { useActiveSession } from '../app/active-session';
import { ErrorAlert } from '../ui/ErrorAlert';
import { useAction } from '../ui/use-action';
import './cases.css';

const DAY = 86_400;
const choices: { seconds: number | null; label: string }[] = [
  { seconds: null, label: 'Off' },
  { seconds: DAY, label: '1 day' },
  { seconds: 7 * DAY, label: '1 week' },
  { seconds: 30 * DAY, label: '30 days' },
  { seconds: 90 * DAY, label: '90 days' },
  { seconds: 365 * DAY, label: '1 year' },
];

function describe(seconds: number | null): string {
  if (seconds === null) return 'Off';
  const known = choices.find((c) => c.seconds === seconds);
  if (known) return known.label;
  const days = Math.round(seconds / DAY);
  return `${days} day${days === 1 ? '' : 's'}`;
}

/**
 * Disappearing messages for one conversation, in its header: how long messages (and the photos
 * sent with them) are kept, on the server and on every device. Either person of a direct
 * conversation may change it; in a group, case or patient conversation only its admins (the
 * server enforces the same rule and audits every change).
 */
export function MessageExpiryControl({ conversationId }: { conversationId: string }) {
  const { me } = useActiveSession();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const action = useAction();
  const load = useCallback(() => http.get<Conversation>(`/conversations/${segment(conversationId)}`), [conversationId]);

  useEffect(() => {
    let live = true;
    load().then(
      (c) => live && setConversation(c),
      // The thread still works without this control; the header simply does not show it.
      (error: unknown) => console.warn('message expiry could not be loaded', error),
    );
    return () => {
      live = false;
    };
  }, [load]);

  if (!conversation) return null;
  const mine = conversation.members.find((m) => m.accountId === me.account.id);
  const mayChange = conversation.kind === 'direct' || mine?.role === 'admin';
  const current = conversation.expirySeconds;
  const options = choices.some((c) => c.seconds === current) ? choices : [...choices, { seconds: current, label: describe(current) }];

  const change = (value: string) =>
    void action.run(async () => {
      const seconds = value === '' ? null : Math.min(MAX_MESSAGE_EXPIRY_SECONDS, Math.max(MIN_MESSAGE_EXPIRY_SECONDS, Number(value)));
      setConversation(await http.put<Conversation>(`/conversations/${segment(conversationId)}/expiry`, { expirySeconds: seconds }));
    });

  return (
    <span className="message-expiry small">
      {mayChange ? (
        <label>
          Disappearing messages{' '}
          <select className="input input-inline" value={current === null ? '' : String(current)} disabled={action.pending} onChange={(e) => change(e.target.value)}>
            {options.map((o) => (
              <option key={o.label} value={o.seconds === null ? '' : String(o.seconds)}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <span>Disappearing messages: {describe(current)}</span>
      )}
      <ErrorAlert error={action.error} />
    </span>
  );
}
