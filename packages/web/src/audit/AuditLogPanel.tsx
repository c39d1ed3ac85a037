import { useMemo, useState } from 'react';
import type { AuditListedEntry, Member } from '@consilium/protocol';
import { listMembers } from '../api/org';
import { useActiveSession } from '../app/active-session';
import { useLoaded } from '../ui/use-loaded';
import { AuditEntries } from './AuditEntries';
import { AuditEntryDialog } from './AuditEntryDialog';
import { LogStatusBanner } from './LogStatusBanner';
import { peopleFrom } from './people';
import { useLogStatus } from './use-log-status';

// Module-level, so useLoaded sees a stable function. Only administrators may list members.
const loadMembers = async (): Promise<Member[] | null> => (await listMembers()).members;
const noMembers = async (): Promise<Member[] | null> => null;

/**
 * The organisation's tamper-evident audit log, for administrators and security officers: its
 * integrity as checked by this browser, a search of its entries, and exports.
 */
export function AuditLogPanel() {
  const { me } = useActiveSession();
  const log = useLogStatus();
  const [members] = useLoaded(me.account.role === 'admin' ? loadMembers : noMembers);
  // Administrators pick people from a list (empty while it loads); others, or if it fails, type an id.
  const memberList = members.status === 'ready' ? members.data : members.status === 'loading' && me.account.role === 'admin' ? [] : null;
  const people = useMemo(() => peopleFrom(me, memberList), [me, memberList]);
  const [open, setOpen] = useState<AuditListedEntry | null>(null);

  return (
    <div className="stack-large">
      <LogStatusBanner log={log} />
      <p className="alert alert-info">
        Reading the audit log is itself recorded: each search, export and full verification adds an entry with your name to this log.
        Checking checkpoints and proofs is not, as they reveal nothing about any entry.
      </p>
      <AuditEntries members={memberList} people={people} onOpen={setOpen} />
      {open && <AuditEntryDialog key={open.index} entry={open} checkpointCovering={log.checkpointCovering} onClose={() => setOpen(null)} />}
    </div>
  );
}
