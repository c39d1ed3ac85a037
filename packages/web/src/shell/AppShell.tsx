import { lazy, Suspense, useRef, type MouseEvent } from 'react';
import type { Route } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { ProfilePage } from '../profile/ProfilePage';
import { AdminPage } from '../admin/AdminPage';
import { adminTabsFor } from '../admin/admin-tabs';
import { TopBar } from './TopBar';
import { ConversationSidebar } from './ConversationSidebar';
import { ConversationPlaceholder } from './ConversationPlaceholder';
import { NotFoundView } from './NotFoundView';
import { MessengerProvider } from '../messaging/MessengerProvider';
import { ThreadView } from '../messaging/ThreadView';
import { OwnDeviceAlert } from '../messaging/OwnDeviceAlert';
import { StaffPhishingPage } from '../phishing/StaffPhishingPage';
import { SecurityDashboard } from '../phishing/SecurityDashboard';

// Their own chunk (SBAR forms, FHIR export), loaded when someone opens Cases.
const CasesPage = lazy(() => import('../cases/CasesPage').then((module) => ({ default: module.CasesPage })));
const CaseView = lazy(() => import('../cases/CaseView').then((module) => ({ default: module.CaseView })));

/** The signed-in frame: top bar, the conversation list on the messenger screen, and the main area. */
export function AppShell({ route }: { route: Route }) {
  const { me } = useActiveSession();
  const main = useRef<HTMLElement>(null);
  const messenger = route.name === 'home' || route.name === 'conversation';
  const skipToMain = (event: MouseEvent) => {
    // A real #fragment would be read as a route; move focus by hand instead.
    event.preventDefault();
    main.current?.focus();
  };

  return (
    <MessengerProvider accountId={me.account.id}>
      <div className="shell">
        <a className="skip-link" href="#main-content" onClick={skipToMain}>
          Skip to main content
        </a>
        <TopBar route={route} />
        <OwnDeviceAlert />
        <div className={`workspace${messenger ? ' workspace-messenger' : ''}`}>
          {messenger && <ConversationSidebar openId={route.name === 'conversation' ? route.id : null} />}
          <main id="main-content" ref={main} tabIndex={-1} className="main">
            {route.name === 'home' && <ConversationPlaceholder />}
            {route.name === 'conversation' && <ThreadView key={route.id} conversationId={route.id} />}
            {(route.name === 'cases' || route.name === 'case') && (
              <Suspense fallback={<p className="muted page">Loading cases…</p>}>
                {route.name === 'cases' ? <CasesPage /> : <CaseView key={route.id} caseId={route.id} />}
              </Suspense>
            )}
            {route.name === 'profile' && <ProfilePage />}
            {route.name === 'phishing' && <StaffPhishingPage />}
            {route.name === 'security' &&
              (me.account.role === 'admin' || me.account.role === 'security_officer' ? <SecurityDashboard /> : <NotFoundView reason="forbidden" />)}
            {route.name === 'admin' &&
              (adminTabsFor(me.account.role).includes(route.tab) ? <AdminPage tab={route.tab} /> : <NotFoundView reason="forbidden" />)}
            {(route.name === 'not-found' || route.name === 'invite') && <NotFoundView reason="missing" />}
          </main>
        </div>
      </div>
    </MessengerProvider>
  );
}
