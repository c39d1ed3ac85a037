import type { AuditEntry, AuditListedEntry } from '@consilium/protocol';
import { Badge } from '../ui/Badge';
import { formatDateTimeSeconds } from '../ui/format';
import { roleLabels } from '../ui/labels';
import { eventLabel, outcomeLabels } from './event-labels';
import { shortId, type People } from './people';

interface AuditEntryTableProps {
  entries: readonly AuditListedEntry[];
  people: People;
  onOpen: (entry: AuditListedEntry) => void;
}

/** One page of entries, newest first. A row opens the entry; its time is the keyboard way in. */
export function AuditEntryTable({ entries, people, onOpen }: AuditEntryTableProps) {
  return (
    <div className="table-wrap">
      <table className="table audit-table">
        <caption className="visually-hidden">Audit log entries, newest first. Open an entry for its details and inclusion proof.</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Outcome</th>
            <th scope="col">Actor</th>
            <th scope="col">Entity</th>
            <th scope="col">Network address</th>
            <th scope="col">
              <span className="visually-hidden">Emergency access</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr
              key={entry.index}
              className="audit-row"
              onClick={(event) => {
                // Focus the row's button first, so closing the entry returns focus to this row.
                event.currentTarget.querySelector('button')?.focus();
                onOpen(entry);
              }}
            >
              <th scope="row">
                <button type="button" className="link-button audit-open" onClick={(event) => {
                    event.stopPropagation();
                    onOpen(entry);
                  }}>
                  {formatDateTimeSeconds(entry.at)}
                  <span className="visually-hidden">: details of entry {entry.index}</span>
                </button>
              </th>
              <td>
                <span className="audit-event">{eventLabel(entry.type)}</span>
                <code className="audit-event-code">{entry.type}</code>
              </td>
              <td>
                <Badge tone={entry.outcome === 'failure' ? 'danger' : 'success'}>{outcomeLabels[entry.outcome]}</Badge>
              </td>
              <td>
                <Actor entry={entry} people={people} />
              </td>
              <td>
                <Entity entry={entry} people={people} />
              </td>
              <td>{entry.networkAddress ? <code>{entry.networkAddress}</code> : <span className="muted">—</span>}</td>
              <td>{entry.emergency && <Badge tone="danger">Emergency</Badge>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Actor({ entry, people }: { entry: AuditEntry; people: People }) {
  const { accountId, role, email } = entry.actor;
  const person = accountId ? people.get(accountId) : undefined;
  if (!accountId && !email) return <span className="muted">System</span>;
  return (
    <>
      <span className="member-name">{person?.name ?? (accountId ? <code>{shortId(accountId)}</code> : 'Unknown account')}</span>
      <span className="member-email">
        {[role ? roleLabels[role] : null, person?.email ?? email].filter(Boolean).join(' · ')}
      </span>
    </>
  );
}

function Entity({ entry, people }: { entry: AuditEntry; people: People }) {
  const { entity } = entry;
  if (!entity) return <span className="muted">—</span>;
  const person = entity.type === 'account' ? people.get(entity.id) : undefined;
  return (
    <>
      <span className="member-name">{person?.name ?? <code>{entity.id.length > 12 ? shortId(entity.id) : entity.id}</code>}</span>
      <span className="member-email">{entity.type}</span>
    </>
  );
}
