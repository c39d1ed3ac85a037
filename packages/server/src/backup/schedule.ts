import { Cron } from 'croner';
import type { Deps } from '../deps.js';
import { createBackup } from './create.js';
import { runVerify } from './service.js';
import { BackupBusyError } from './lock.js';

export interface BackupSchedule {
  /** When the next backup runs, or null. */
  nextRun(): Date | null;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Throws on a cron expression croner does not accept, so a typo stops start-up instead of silently never backing up. */
export function parseSchedule(expression: string): Cron {
  return new Cron(expression, { paused: true });
}

/**
 * Scheduled backups (off unless backupSchedule is set): each run takes a snapshot and then
 * verifies the target's chain and chunk hashes (no identity: the server cannot read data). A run
 * still going when the next is due is skipped (croner's protect), and so is one the CLI holds.
 * Restore drills need an identity, so they are scheduled where the identity is (docs).
 */
export function startBackupSchedule(deps: Deps, log: { info(o: object, m: string): void; error(o: object, m: string): void }): BackupSchedule | null {
  const expression = deps.config.backupSchedule;
  if (!expression) return null;
  let running: Promise<void> | null = null;
  const job = new Cron(expression, { protect: true, unref: true }, () => {
    running = (async () => {
      try {
        const result = await createBackup(deps);
        log.info({ seq: result.seq, snapshotId: result.snapshotId, bytesWritten: result.bytesWritten, durationMs: result.durationMs }, 'scheduled backup done');
        const report = await runVerify(deps);
        if (!report.ok) log.error({ problems: report.problems.slice(0, 10) }, 'backup verify found problems');
      } catch (err) {
        if (err instanceof BackupBusyError) log.info({}, 'scheduled backup skipped: another run holds the lock');
        else log.error({ err }, 'scheduled backup failed');
      }
    })();
    return running;
  });
  return {
    nextRun: () => job.nextRun(),
    stop: async () => {
      job.stop();
      await running;
    },
  };
}

/** Runs `fn` on a cron schedule (one run at a time) until the process ends; used by `backup drill --schedule`. */
export function runOnSchedule(expression: string, fn: () => Promise<void>): { nextRun(): Date | null; stop(): void } {
  const job = new Cron(expression, { protect: true }, fn);
  return { nextRun: () => job.nextRun(), stop: () => job.stop() };
}
