import { useSyncExternalStore } from 'react';

export const adminTabs = ['members', 'invitations', 'departments', 'oncall', 'connections', 'settings', 'audit', 'backups'] as const;
export type AdminTab = (typeof adminTabs)[number];

/** Every screen the address can name. The hash keeps the server's SPA fallback trivial. */
export type Route =
  | { name: 'home' }
  | { name: 'conversation'; id: string }
  | { name: 'cases' }
  | { name: 'case'; id: string }
  | { name: 'profile' }
  | { name: 'phishing' }
  | { name: 'security' }
  | { name: 'admin'; tab: AdminTab }
  | { name: 'invite'; token: string }
  | { name: 'patient-invite'; token: string }
  | { name: 'not-found' };

const isAdminTab = (value: string | undefined): value is AdminTab => adminTabs.some((tab) => tab === value);

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first, second, ...rest] = parts;
  if (first === undefined) return { name: 'home' };
  if (first === 'c' && second && rest.length === 0) return { name: 'conversation', id: decodeURIComponent(second) };
  if (first === 'cases' && second === undefined) return { name: 'cases' };
  if (first === 'cases' && second && rest.length === 0) return { name: 'case', id: decodeURIComponent(second) };
  if (first === 'profile' && second === undefined) return { name: 'profile' };
  if (first === 'phishing' && second === undefined) return { name: 'phishing' };
  if (first === 'security' && second === undefined) return { name: 'security' };
  if (first === 'admin' && rest.length === 0) {
    if (second === undefined) return { name: 'admin', tab: 'members' };
    if (isAdminTab(second)) return { name: 'admin', tab: second };
  }
  if (first === 'invite' && second && rest.length === 0) return { name: 'invite', token: decodeURIComponent(second) };
  if (first === 'patient' && second && rest.length === 0) return { name: 'patient-invite', token: decodeURIComponent(second) };
  return { name: 'not-found' };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case 'home':
    case 'not-found':
      return '#/';
    case 'conversation':
      return `#/c/${encodeURIComponent(route.id)}`;
    case 'cases':
      return '#/cases';
    case 'case':
      return `#/cases/${encodeURIComponent(route.id)}`;
    case 'profile':
      return '#/profile';
    case 'phishing':
      return '#/phishing';
    case 'security':
      return '#/security';
    case 'admin':
      return `#/admin/${route.tab}`;
    case 'invite':
      return `#/invite/${encodeURIComponent(route.token)}`;
    case 'patient-invite':
      return `#/patient/${encodeURIComponent(route.token)}`;
  }
}

/** `replace` keeps the current entry out of history (used to drop a spent invite token). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const href = routeHref(route);
  if (options.replace) window.location.replace(href);
  else window.location.hash = href;
}

let navigatedSinceLoad = false;

function subscribe(onChange: () => void): () => void {
  const handle = () => {
    navigatedSinceLoad = true;
    onChange();
  };
  window.addEventListener('hashchange', handle);
  return () => window.removeEventListener('hashchange', handle);
}

/** True once the user has moved between screens; page headings take focus only then. */
export const hasNavigatedSinceLoad = () => navigatedSinceLoad;

const currentHash = () => window.location.hash;

export function useRoute(): Route {
  return parseRoute(useSyncExternalStore(subscribe, currentHash));
}
