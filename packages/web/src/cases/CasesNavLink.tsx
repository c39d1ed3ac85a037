import { useActiveSession } from '../app/active-session';
import { routeHref } from '../app/route';
import { useAwaitingCount } from './use-case-changes';
import './cases.css';

/** The top bar's link to the Cases page, with the number of consults that wait for this user's answer. */
export function CasesNavLink({ current }: { current: boolean }) {
  const { me } = useActiveSession();
  // Patients see only the conversations they are invited to: no cases.
  return me.account.role === 'patient' ? null : <CasesLink current={current} />;
}

function CasesLink({ current }: { current: boolean }) {
  const awaiting = useAwaitingCount();
  return (
    <a href={routeHref({ name: 'cases' })} className="nav-link" aria-current={current ? 'page' : undefined}>
      Cases
      {awaiting !== null && awaiting > 0 && (
        <span className="case-nav-count" data-testid="cases-awaiting-count">
          <span aria-hidden="true">{awaiting}</span>
          <span className="visually-hidden">, {awaiting === 1 ? '1 consult needs' : `${awaiting} consults need`} your response</span>
        </span>
      )}
    </a>
  );
}
