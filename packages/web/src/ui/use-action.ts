import { useCallback, useState } from 'react';

export interface Action {
  pending: boolean;
  error: unknown;
  /** Runs the task, recording its error; resolves true when it succeeded. */
  run: (task: () => Promise<void>) => Promise<boolean>;
  setError: (error: unknown) => void;
}

/** Pending and error state for one user-triggered request (a form submit, a button). */
export function useAction(): Action {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (task: () => Promise<void>) => {
    setPending(true);
    setError(null);
    try {
      await task();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setPending(false);
    }
  }, []);
  return { pending, error, run, setError };
}
