import type { Deps } from '../deps.js';
import { firePagesDue } from './paging.js';
import { purgeExpiredCases } from './retention.js';
import { deleteExpiredMessages } from '../retention/expiry.js';

const PURGE_EVERY_TICKS = 60;

/**
 * The case clock: fires due pages every second; every minute it purges expired closed cases and
 * deletes expired messages (disappearing messages) of every conversation. All
 * state is in the database, so a restarted server (or another node) picks up where this one was.
 */
export function startCaseTimers(deps: Deps, onError: (err: unknown) => void, everyMs = 1000) {
  let running = false;
  let ticks = 0;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await firePagesDue(deps);
      if (ticks++ % PURGE_EVERY_TICKS === 0) {
        await purgeExpiredCases(deps);
        await deleteExpiredMessages(deps);
      }
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      while (running) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
