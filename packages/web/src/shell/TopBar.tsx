import type { Route } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { BrandMark } from '../ui/BrandMark';
import { roleLabels } from '../ui/labels';
import { adminTabsFor } from '../admin/admin-tabs';
import { CasesNavLink } from '../cases/CasesNavLink';

function NavLink({ href, current, children }: { href: string; current: boolean; children: string }) {
  return (
    <a href={href} className="nav-link" aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

export function TopBar({ route }: { route: Route }) {
  const { me, signOut } = useActiveSession();
  const tabs = adminTabsFor(me.account.role);
  const onAudit = route.name === 'admin' && route.tab === 'audit';
  return (
    <header className="topbar">
      <div className="topbar-brand">
        <BrandMark />
        <span className="topbar-product">Consilium</span>
        <span className="topbar-org">{me.organisation.name}</span>
      </div>
      <nav className="topbar-nav" aria-label="Main">
        <NavLink href="#/" current={route.name === 'home' || route.name === 'conversation'}>
          Conversations
        </NavLink>
        <CasesNavLink current={route.name === 'cases' || route.name === 'case'} />
        {me.account.role !== 'patient' && (
          <NavLink href="#/phishing" current={route.name === 'phishing'}>
            Report phishing
          </NavLink>
        )}
        {(me.account.role === 'admin' || me.account.role === 'security_officer') && (
          <NavLink href="#/security" current={route.name === 'security'}>
            Phishing dashboard
          </NavLink>
        )}
        <NavLink href="#/profile" current={route.name === 'profile'}>
          Profile
        </NavLink>
        {tabs.includes('members') && (
          <NavLink href="#/admin/members" current={route.name === 'admin' && !onAudit}>
            Admin
          </NavLink>
        )}
        {tabs.includes('audit') && (
          <NavLink href="#/admin/audit" current={onAudit}>
            Audit log
          </NavLink>
        )}
      </nav>
      <div className="topbar-user">
        <span className="topbar-identity">
          <span className="topbar-name">{me.account.displayName}</span>
          <span className="topbar-role">{roleLabels[me.account.role]}</span>
        </span>
        <button type="button" className="button button-secondary button-small" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
