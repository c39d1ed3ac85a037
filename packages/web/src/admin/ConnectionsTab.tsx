import { useState, type FormEvent } from 'react';
import type { OrgConnection } from '@consilium/protocol';
import { acceptConnection, endConnection, listConnections, proposeConnection } from '../api/org';
import { TextField } from '../ui/fields';
import { formatDate } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { useActiveSession } from '../app/active-session';
import { AddCard, ListSection } from './TabSections';

const statusText = (c: OrgConnection) =>
  c.status === 'active'
    ? `Connected since ${formatDate(c.acceptedAt ?? c.proposedAt)}`
    : c.status === 'ended'
      ? `Ended ${formatDate(c.endedAt ?? c.proposedAt)}`
      : c.direction === 'outgoing'
        ? `Proposed ${formatDate(c.proposedAt)}, waiting for their admin`
        : `Proposed to you ${formatDate(c.proposedAt)}`;

/**
 * Connections with other organisations: while connected, members of both can find each other's
 * verified colleagues and message them. Admin views, audit logs, cases and rosters stay separate.
 */
export function ConnectionsTab() {
  const { me } = useActiveSession();
  const [connections, reload] = useLoaded(listConnections);
  const [organisation, setOrganisation] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();

  const propose = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    if (!organisation.trim()) return setFieldError("Enter the other organisation's id or short name.");
    setFieldError(null);
    await action.run(async () => {
      const c = await proposeConnection({ organisation: organisation.trim() });
      setOrganisation('');
      setNotice(`Proposed a connection to ${c.peer.name}. An admin there must accept it.`);
      reload();
    });
  };

  const change = (c: OrgConnection, what: 'accept' | 'end') =>
    action.run(async () => {
      setNotice(null);
      if (what === 'end' && !window.confirm(`End the connection with ${c.peer.name}? No new messages or conversations will cross it.`)) return;
      const after = what === 'accept' ? await acceptConnection(c.id) : await endConnection(c.id);
      setNotice(after.status === 'active' ? `Connected with ${c.peer.name}.` : `The connection with ${c.peer.name} has ended.`);
      reload();
    });

  return (
    <div className="stack-large">
      <AddCard
        headingId="new-connection-heading"
        title="Connect with another organisation"
        field={<TextField label="Organisation id or short name" value={organisation} maxLength={100} onChange={(e) => setOrganisation(e.target.value)} error={fieldError} />}
        submitLabel="Propose connection"
        pendingLabel="Working…"
        pending={action.pending}
        error={action.error}
        notice={notice}
        onSubmit={propose}
      >
        <p className="muted small">Members of connected organisations can message each other&apos;s verified professionals. Nothing else is shared.</p>
        <p className="muted small">
          To be connected by another organisation, give its admin this id: <code>{me.organisation.id}</code>
        </p>
      </AddCard>
      <ListSection
        headingId="connections-heading"
        title="Connections"
        loaded={connections}
        items={(data) => data.connections}
        loadingText="Loading connections…"
        emptyText="No connections yet."
        row={(c) => (
          <li key={c.id} className="list-row">
            <span className="list-row-title">
              {c.peer.name} <span className="muted small">({c.peer.slug})</span>
            </span>
            <span className="muted small">{statusText(c)}</span>
            {c.status === 'proposed' && c.direction === 'incoming' && (
              <button type="button" className="button button-primary" disabled={action.pending} onClick={() => void change(c, 'accept')}>
                Accept
              </button>
            )}
            {c.status !== 'ended' && (
              <button type="button" className="button" disabled={action.pending} onClick={() => void change(c, 'end')}>
                {c.status === 'active' ? 'End connection' : c.direction === 'outgoing' ? 'Withdraw' : 'Decline'}
              </button>
            )}
          </li>
        )}
      />
    </div>
  );
}
