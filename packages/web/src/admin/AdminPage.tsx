import { adminTabs, type AdminTab } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { PageHeading } from '../ui/PageHeading';
import { MembersTab } from './MembersTab';
import { InvitationsTab } from './InvitationsTab';
import { DepartmentsTab } from './DepartmentsTab';
import { SettingsTab } from './SettingsTab';

const tabLabels: Record<AdminTab, string> = {
  members: 'Members',
  invitations: 'Invitations',
  departments: 'Departments',
  settings: 'Settings',
};

/** The admin console. Sections are addresses (#/admin/<tab>), so the back button and links work. */
export function AdminPage({ tab }: { tab: AdminTab }) {
  const { me } = useActiveSession();
  return (
    <div className="page page-wide">
      <PageHeading title={`Admin: ${tabLabels[tab]}`}>Administration</PageHeading>
      <p className="muted">Manage who can use Consilium at {me.organisation.name}.</p>
      <nav className="tabs" aria-label="Administration sections">
        {adminTabs.map((t) => (
          <a key={t} href={`#/admin/${t}`} className="tab" aria-current={t === tab ? 'page' : undefined}>
            {tabLabels[t]}
          </a>
        ))}
      </nav>
      <section className="tab-panel" aria-label={tabLabels[tab]}>
        {tab === 'members' && <MembersTab />}
        {tab === 'invitations' && <InvitationsTab />}
        {tab === 'departments' && <DepartmentsTab />}
        {tab === 'settings' && <SettingsTab />}
      </section>
    </div>
  );
}
