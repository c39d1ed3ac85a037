import { useCallback, useEffect, useRef, useState } from 'react';
import { forgetPin, type PinnedCheckpoint } from './checkpoint-pin';
import { checkLog, type LogAssessment, type TrustedCheckpoint } from './log-check';

export type LogStatus =
  | { kind: 'checking' }
  | { kind: 'failed'; error: unknown }
  | (LogAssessment & {
      /** The pin this visit started from: what "consistent with what you saw on <date>" refers to. */
      baseline: PinnedCheckpoint | null;
    });

export interface LogStatusHandle {
  status: LogStatus;
  /** Checks the latest checkpoint again. */
  recheck: () => Promise<LogStatus>;
  /**
   * A trusted checkpoint that covers entry `index`. Checkpoints are signed about every second,
   * so a new entry may need a moment; rejects when the log cannot be trusted.
   */
  checkpointCovering: (index: number) => Promise<TrustedCheckpoint>;
  /** Drops this browser's pin, after the person confirmed a key change or a restore elsewhere. */
  trustAgain: () => Promise<void>;
}

/** While the log has no checkpoint yet (a fresh organisation), look again this often and this many times. */
const NO_CHECKPOINT_RETRY_MS = 1_500;
const NO_CHECKPOINT_RETRIES = 20;
/** How long `checkpointCovering` waits for the server to sign a checkpoint that covers a new entry. */
const COVERING_ATTEMPTS = 6;
const COVERING_WAIT_MS = 1_000;

const pause = (ms: number) => new Promise((resolve) => window.setTimeout(resolve, ms));

export class UntrustedLogError extends Error {
  override readonly name = 'UntrustedLogError';
}

/** The browser's own verification of the audit log, run on arrival and on demand. */
export function useLogStatus(): LogStatusHandle {
  const [status, setStatus] = useState<LogStatus>({ kind: 'checking' });
  const baseline = useRef<PinnedCheckpoint | null | undefined>(undefined);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const mounted = useRef(true);

  // One check at a time, in order: a later answer must not be overwritten by an earlier one.
  const recheck = useCallback((): Promise<LogStatus> => {
    const run = async (): Promise<LogStatus> => {
      let next: LogStatus;
      try {
        const assessment = await checkLog();
        if (baseline.current === undefined && assessment.kind === 'trusted') baseline.current = assessment.previous;
        next = { ...assessment, baseline: baseline.current ?? null };
      } catch (error) {
        next = { kind: 'failed', error };
      }
      if (mounted.current) setStatus(next);
      return next;
    };
    const result = queue.current.then(run, run);
    queue.current = result;
    return result;
  }, []);

  useEffect(() => {
    mounted.current = true;
    let cancelled = false;
    void (async () => {
      for (let attempt = 0; attempt <= NO_CHECKPOINT_RETRIES && !cancelled; attempt++) {
        const result = await recheck();
        if (result.kind !== 'no-checkpoint') return;
        await pause(NO_CHECKPOINT_RETRY_MS);
      }
    })();
    return () => {
      cancelled = true;
      mounted.current = false;
    };
  }, [recheck]);

  const latest = useRef(status);
  latest.current = status;

  const checkpointCovering = useCallback(
    async (index: number): Promise<TrustedCheckpoint> => {
      let current = latest.current;
      for (let attempt = 0; attempt < COVERING_ATTEMPTS; attempt++) {
        if (current.kind === 'trusted' && current.checkpoint.size > index) return current.checkpoint;
        if (current.kind !== 'trusted' && current.kind !== 'no-checkpoint' && current.kind !== 'checking') break;
        if (attempt > 0) await pause(COVERING_WAIT_MS);
        current = await recheck();
      }
      if (current.kind === 'failed') throw current.error;
      if (current.kind === 'trusted' || current.kind === 'no-checkpoint') {
        throw new UntrustedLogError(`No signed checkpoint covers entry ${index} yet. Try again in a few seconds.`);
      }
      throw new UntrustedLogError('The log’s checkpoint could not be verified in this browser (see the status at the top), so nothing can be checked against it.');
    },
    [recheck],
  );

  const trustAgain = useCallback(async () => {
    const current = latest.current;
    if (current.kind === 'checking' || current.kind === 'failed') return;
    forgetPin(current.info.logId);
    baseline.current = undefined;
    await recheck();
  }, [recheck]);

  return { status, recheck, checkpointCovering, trustAgain };
}
