import { useState } from 'react';
import { routeHref } from '../app/route';
import { useMessengerSnapshot } from '../messaging/MessengerProvider';
import { NewConversationDialog } from '../messaging/NewConversationDialog';
import { InvitePatientDialog } from '../patients/InvitePatientDialog';
import { useActiveSession } from '../app/active-session';
import { formatDateTime } from '../ui/format';

/** The conversation list, newest activity first, with unread counts. */
export function ConversationSidebar({ openId }: { openId: string | null }) {
  const snapshot = useMessengerSnapshot();
  const [composing, setComposing] = useState(false);
  const [invitingPatient, setInvitingPatient] = useState(false);
  const { me } = useActiveSession();
  const isPatient = me.account.role === 'patient';
  const mayInvitePatients = !isPatient && me.account.verificationLevel !== 'unverified';
  // Cases live on the Cases page, with their header, paging and status.
  const conversations = snapshot.conversations.filter((c) => c.kind !== 'case');

  return (
    <aside className="sidebar" aria-labelledby="conversations-heading">
      <div className="sidebar-header">
        <h1 id="conversations-heading" className="sidebar-heading">
          Conversations
        </h1>
        {!isPatient && (
          <button type="button" className="button button-primary button-small" disabled={snapshot.phase !== 'ready'} onClick={() => setComposing(true)}>
            New conversation
          </button>
        )}
      </div>
      {mayInvitePatients && (
        <button type="button" className="link-button small" disabled={snapshot.phase !== 'ready'} onClick={() => setInvitingPatient(true)}>
          Invite a patient
        </button>
      )}
      {invitingPatient && <InvitePatientDialog onClose={() => setInvitingPatient(false)} />}
      {snapshot.phase === 'starting' && <p className="muted small">Setting up secure messaging on this device…</p>}
      {snapshot.phase === 'elsewhere' && (
        <p className="notice">Consilium is open in another tab of this browser. Messaging runs there; close that tab to use it here.</p>
      )}
      {snapshot.phase === 'failed' && (
        <p className="alert alert-error" role="alert">
          Secure messaging is not available on this device: {snapshot.error}
        </p>
      )}
      {snapshot.phase === 'ready' && conversations.length === 0 && (
        <div className="empty-state empty-state-compact">
          <p className="empty-state-title">No conversations yet</p>
          <p className="muted">Conversations you start or are added to will appear here.</p>
        </div>
      )}
      {conversations.length > 0 && (
        <ul className="conversation-list">
          {conversations.map((c) => {
            const last = c.lastMessage;
            const lastText = last?.deleted ? 'Message deleted' : last?.text || (last?.attachments?.length ? 'Attachment' : '');
            const preview = !c.joined ? 'Waiting for this device to be added…' : last ? `${last.own ? 'You: ' : ''}${lastText}` : 'No messages yet';
            return (
              <li key={c.id}>
                <a
                  className={`conversation-link${c.id === openId ? ' conversation-link-open' : ''}`}
                  href={routeHref({ name: 'conversation', id: c.id })}
                  aria-current={c.id === openId ? 'page' : undefined}
                >
                  <span className="conversation-title">{c.title}</span>
                  {c.unread > 0 && (
                    <span className="unread-count" aria-label={`${c.unread} unread`}>
                      {c.unread}
                    </span>
                  )}
                  <span className="conversation-preview muted small">{preview}</span>
                  {c.lastMessage && <span className="visually-hidden">{formatDateTime(c.lastMessage.at)}</span>}
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {composing && <NewConversationDialog onClose={() => setComposing(false)} />}
    </aside>
  );
}
