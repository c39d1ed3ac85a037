import type { SessionInfo } from '@consilium/protocol';
import { endSession, listSessions } from '../api/me';
import { Badge } from '../ui/Badge';
import { ErrorAlert } from '../ui/ErrorAlert';
import { describeDevice, formatDateTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';

function SessionRow({ session, onEnded }: { session: SessionInfo; onEnded: () => void }) {
  const action = useAction();
  const device = describeDevice(session.userAgent);
  return (
    <li className="list-row">
      <div className="list-row-main">
        <p className="list-row-title">
          {device} {session.current && <Badge tone="accent">This device</Badge>}
        </p>
        <p className="muted small">
          {session.ipAddress ? `${session.ipAddress} · ` : ''}Signed in {formatDateTime(session.createdAt)} · Last active{' '}
          {formatDateTime(session.lastSeenAt)}
        </p>
        <ErrorAlert error={action.error} />
      </div>
      {!session.current && (
        <button
          type="button"
          className="button button-secondary button-small"
          aria-label={`Sign out ${device}, signed in ${formatDateTime(session.createdAt)}`}
          disabled={action.pending}
          onClick={() =>
            void action.run(async () => {
              await endSession(session.id);
              onEnded();
            })
          }
        >
          Sign out
        </button>
      )}
    </li>
  );
}

export function SessionsSection() {
  const [sessions, reload] = useLoaded(listSessions);
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading" className="card-title">
        Sessions
      </h2>
      <p className="muted">Where your account is signed in now. Sign out any session you do not recognise.</p>
      {sessions.status === 'loading' && <p className="muted">Loading sessions…</p>}
      {sessions.status === 'failed' && <ErrorAlert error={sessions.error} />}
      {sessions.status === 'ready' && (
        <ul className="list">
          {sessions.data.sessions.map((session) => (
            <SessionRow key={session.id} session={session} onEnded={reload} />
          ))}
        </ul>
      )}
    </section>
  );
}
