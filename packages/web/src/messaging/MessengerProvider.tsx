import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { Messenger } from './engine';
import type { MessengerSnapshot } from './types';

const MessengerContext = createContext<Messenger | null>(null);

const starting: MessengerSnapshot = { phase: 'starting', error: null, deviceId: null, connected: false, conversations: [], unknownOwnDevices: [] };
const noop = () => () => undefined;

/**
 * Loads the messaging engine (and the MLS library with it) only once someone is signed in, and
 * runs it for as long as the session lasts.
 */
export function MessengerProvider({ accountId, children }: { accountId: string; children: ReactNode }) {
  const [messenger, setMessenger] = useState<Messenger | null>(null);
  useEffect(() => {
    let current: Messenger | null = null;
    let cancelled = false;
    void import('./engine').then(
      ({ startMessenger }) => {
        if (cancelled) return;
        current = startMessenger(accountId);
        setMessenger(current);
      },
      (error: unknown) => console.warn('the messaging module could not be loaded', error),
    );
    return () => {
      cancelled = true;
      current?.stop();
      setMessenger(null);
    };
  }, [accountId]);
  return <MessengerContext.Provider value={messenger}>{children}</MessengerContext.Provider>;
}

/** The running messenger, or null while it loads. */
export const useMessenger = () => useContext(MessengerContext);

export function useMessengerSnapshot(): MessengerSnapshot {
  const messenger = useMessenger();
  return useSyncExternalStore(messenger?.subscribe ?? noop, messenger?.getSnapshot ?? (() => starting));
}
