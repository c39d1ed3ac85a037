import { useState, type FormEvent } from 'react';
import type { OrgConnection } from '@consilium/protocol';
import { acceptConnection, endConnection, listConnections, proposeConnection } from '../api/org';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { TextField } from '../ui/fields';
import { formatDate } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { useActiveSession } from '../app/active-session';

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
      <section className="card" aria-labelledby="new-connection-heading">
        <h2 id="new-connection-heading" className="card-title">
          Connect with another organisation
        </h2>
        <p className="muted small">Members of connected organisations can message each other&apos;s verified professionals. Nothing else is shared.</p>
        <p className="muted small">
          To be connected by another organisation, give its admin this id: <code>{me.organisation.id}</code>
        </p>
        <form className="inline-form" onSubmit={(e) => void propose(e)} noValidate>
          <TextField label="Organisation id or short name" value={organisation} maxLength={100} onChange={(e) => setOrganisation(e.target.value)} error={fieldError} />
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Working…' : 'Propose connection'}
          </button>
        </form>
        <ErrorAlert error={action.error} />
        <StatusMessage tone="success">{notice}</StatusMessage>
      </section>

      <section aria-labelledby="connections-heading">
        <h2 id="connections-heading" className="section-title">
          Connections
        </h2>
        {connections.status === 'loading' && <p className="muted">Loading connections…</p>}
        {connections.status === 'failed' && <ErrorAlert error={connections.error} />}
        {connections.status === 'ready' &&
          (connections.data.connections.length === 0 ? (
            <p className="muted">No connections yet.</p>
          ) : (
            <ul className="list list-card">
              {connections.data.connections.map((c) => (
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
              ))}
            </ul>
          ))}
      </section>
    </div>
  );
}
