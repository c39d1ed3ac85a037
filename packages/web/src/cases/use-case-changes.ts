import { useEffect, useRef, useState } from 'react';
import { listCases } from '../api/cases';
import { useMessenger } from '../messaging/MessengerProvider';

/**
 * Calls `onChange` (with the case id) whenever the server's WebSocket says a case of this account
 * changed: paged, escalated, accepted, answered, closed. The latest `onChange` is used, so callers
 * may pass an inline function.
 */
export function useCaseChanges(onChange: (caseId: string) => void): void {
  const messenger = useMessenger();
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => messenger?.onCaseChanged((id) => latest.current(id)), [messenger]);
}

const POLL_MS = 30_000;

/**
 * How many consults wait for this user to accept or decline. Polled every 30 s (a WebSocket can
 * be down without anyone noticing) and refreshed at once when a case changes.
 */
export function useAwaitingCount(): number | null {
  const [count, setCount] = useState<number | null>(null);
  const [generation, setGeneration] = useState(0);
  useCaseChanges(() => setGeneration((g) => g + 1));
  useEffect(() => {
    let current = true;
    const load = () =>
      listCases('awaiting').then(
        (r) => current && setCount(r.cases.length),
        // The count is a hint; the Cases page shows errors. Keep the last known number.
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [generation]);
  return count;
}
