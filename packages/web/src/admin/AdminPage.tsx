import { lazy, Suspense } from 'react';
import type { AdminTab } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { PageHeading } from '../ui/PageHeading';
import { MembersTab } from './MembersTab';
import { InvitationsTab } from './InvitationsTab';
import { DepartmentsTab } from './DepartmentsTab';
import { SettingsTab } from './SettingsTab';
import { OnCallTab } from './OnCallTab';
import { ConnectionsTab } from './ConnectionsTab';
import { adminTabsFor, tabLabels } from './admin-tabs';
import { BackupsPanel } from './backups/BackupsPanel';

// Its own chunk: the Ed25519 and Merkle verification it needs (about 20 KB gzip) is loaded only
// by the few who open the audit log, not by every clinician.
const AuditLogPanel = lazy(() => import('../audit/AuditLogPanel').then((module) => ({ default: module.AuditLogPanel })));

/**
 * The admin console. Sections are addresses (#/admin/<tab>), so the back button and links work.
 * Each role sees only its own sections; a security officer sees the audit log alone, without tabs.
 */
export function AdminPage({ tab }: { tab: AdminTab }) {
  const { me } = useActiveSession();
  const tabs = adminTabsFor(me.account.role);
  const consoleTabs = tabs.length > 1;
  return (
    <div className="page page-wide">
      <PageHeading title={consoleTabs ? `Admin: ${tabLabels[tab]}` : tabLabels[tab]}>{consoleTabs ? 'Administration' : tabLabels[tab]}</PageHeading>
      <p className="muted">
        {tab === 'audit'
          ? `Who did what at ${me.organisation.name}, in a log that cannot be rewritten unnoticed.`
          : tab === 'backups'
            ? 'Encrypted, signed backups of this Consilium deployment, and proof that they restore.'
            : `Manage who can use Consilium at ${me.organisation.name}.`}
      </p>
      {consoleTabs && (
        <nav className="tabs" aria-label="Administration sections">
          {tabs.map((t) => (
            <a key={t} href={`#/admin/${t}`} className="tab" aria-current={t === tab ? 'page' : undefined}>
              {tabLabels[t]}
            </a>
          ))}
        </nav>
      )}
      <section className="tab-panel" aria-label={tabLabels[tab]}>
        {tab === 'members' && <MembersTab />}
        {tab === 'invitations' && <InvitationsTab />}
        {tab === 'departments' && <DepartmentsTab />}
        {tab === 'oncall' && <OnCallTab />}
        {tab === 'connections' && <ConnectionsTab />}
        {tab === 'settings' && <SettingsTab />}
        {tab === 'backups' && <BackupsPanel />}
        {tab === 'audit' && (
          <Suspense fallback={<p className="muted">Loading the audit log…</p>}>
            <AuditLogPanel />
          </Suspense>
        )}
      </section>
    </div>
  );
}
