import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';

/**
 * True while a rate-limited request may not be retried yet, so the form can hold its submit
 * button until the server's wait time has passed.
 */
export function useRetryCountdown(error: unknown): boolean {
  const [waiting, setWaiting] = useState(false);
  useEffect(() => {
    if (!(error instanceof ApiError) || error.code !== 'RATE_LIMITED' || !error.retryAfterSeconds) {
      setWaiting(false);
      return;
    }
    setWaiting(true);
    const timer = window.setTimeout(() => setWaiting(false), error.retryAfterSeconds * 1000);
    return () => window.clearTimeout(timer);
  }, [error]);
  return waiting;
}
