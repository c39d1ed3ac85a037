import type { Deps } from '../deps.js';
import { firePagesDue } from './paging.js';
import { purgeExpiredCases } from './retention.js';
import { deleteExpiredMessages } from '../retention/expiry.js';
import { sweepOrphanBlobFiles, sweepPendingAttachments } from '../attachments/sweep.js';
import { startPeriodic } from '../periodic.js';

const PURGE_EVERY_TICKS = 60;
/** Files without rows are looked for hourly (it lists the blob directory). */
const ORPHAN_FILES_EVERY_TICKS = 3600;

/**
 * The case clock: fires due pages every second; every minute it purges expired closed cases,
 * deletes expired messages (disappearing messages) of every conversation and attachments whose
 * upload was never confirmed by a sent message; every hour it removes blob files without rows. All
 * state is in the database, so a restarted server (or another node) picks up where this one was.
 */
export function startCaseTimers(deps: Deps, onError: (err: unknown) => void, everyMs = 1000) {
  let ticks = 0;
  return startPeriodic(
    async () => {
      const n = ticks++;
      await firePagesDue(deps);
      if (n % PURGE_EVERY_TICKS === 0) {
        await purgeExpiredCases(deps);
        await deleteExpiredMessages(deps);
        await sweepPendingAttachments(deps);
      }
      // Offset from the minute's work, so the hourly listing does not add to that tick.
      if (n % ORPHAN_FILES_EVERY_TICKS === 30) await sweepOrphanBlobFiles(deps);
    },
    everyMs,
    onError,
  );
}
