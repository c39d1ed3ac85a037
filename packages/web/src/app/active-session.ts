import { createContext, useContext } from 'react';
import type { Me } from '@consilium/protocol';

/** What screens behind sign-in need: who is signed in, and the two session-wide actions. */
export interface ActiveSession {
  me: Me;
  /** Re-reads /me after a change to the account, its second factors or the organisation. */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const ActiveSessionContext = createContext<ActiveSession | null>(null);

export function useActiveSession(): ActiveSession {
  const session = useContext(ActiveSessionContext);
  if (!session) throw new Error('useActiveSession is only available behind sign-in');
  return session;
}
