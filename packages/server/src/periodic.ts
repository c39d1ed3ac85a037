/**
 * A background task run every `everyMs` while the server runs: one run at a time (a tick that
 * finds the last run still going is skipped), errors handed to `onError`, the timer unref'd so it
 * never keeps the process alive. `stop()` ends the timer and waits for a run in progress; with
 * `finalRun` it then runs the task once more (what must not be left undone at shutdown).
 * The task gets `stopping()`, to end a long run early between steps.
 */
export function startPeriodic(task: (stopping: () => boolean) => Promise<unknown>, everyMs: number, onError: (err: unknown) => void, options: { finalRun?: boolean } = {}) {
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await task(() => stopped);
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void (stopped || run()), everyMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 10));
      if (options.finalRun) await run();
    },
  };
}
