import { Cron } from 'croner';
import type { Deps } from '../deps.js';
import { readFile } from 'node:fs/promises';
import { createBackup } from './create.js';
import { runDrill, runVerify } from './service.js';
import { parseIdentityFile } from './age.js';
import { configuredTargets, PRIMARY_TARGET } from './targets.js';
import { BackupBusyError } from './lock.js';

export interface BackupSchedule {
  /** When the next backup (or, with backups off, drill) runs, or null. */
  nextRun(): Date | null;
  /** When the next restore drill runs, or null. */
  nextDrill(): Date | null;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Throws on a cron expression croner does not accept, so a typo stops start-up instead of silently never backing up. */
export function parseSchedule(expression: string): Cron {
  return new Cron(expression, { paused: true });
}

type ScheduleLog = { info(o: object, m: string): void; error(o: object, m: string): void };

/**
 * Scheduled backups (off unless backupSchedule is set): each run takes a snapshot on the local
 * target and then on each SFTP target, and verifies each target's chain and chunk hashes (no
 * identity: the server cannot read data). A run still going when the next is due is skipped
 * (croner's protect), and so is one the CLI holds.
 *
 * Scheduled restore drills (backupDrillSchedule, monthly by default) run only where a drill
 * identity is configured (backupDrillIdentityFile): the demo, or a server on the restore host.
 * The file is read at each drill, so it can be mounted only when needed.
 */
export function startBackupSchedule(deps: Deps, log: ScheduleLog): BackupSchedule | null {
  const { config } = deps;
  const jobs: Cron[] = [];
  const running = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };

  if (config.backupSchedule) {
    const targets = configuredTargets(config).filter((t) => t.name === PRIMARY_TARGET || t.type === 'sftp');
    jobs.push(
      new Cron(config.backupSchedule, { protect: true, unref: true }, () =>
        track(
          (async () => {
            for (const t of targets) {
              try {
                const result = await createBackup(deps, { target: t.name });
                log.info({ target: t.name, seq: result.seq, snapshotId: result.snapshotId, bytesWritten: result.bytesWritten, durationMs: result.durationMs }, 'scheduled backup done');
                const report = await runVerify(deps, { target: t.name });
                if (!report.ok) log.error({ target: t.name, problems: report.problems.slice(0, 10) }, 'backup verify found problems');
              } catch (err) {
                if (err instanceof BackupBusyError) log.info({ target: t.name }, 'scheduled backup skipped: another run holds the lock');
                else log.error({ err, target: t.name }, 'scheduled backup failed');
              }
            }
          })(),
        ),
      ),
    );
  }

  if (config.backupDrillSchedule) {
    if (!config.backupDrillIdentityFile) {
      log.info({ drillSchedule: config.backupDrillSchedule }, 'scheduled restore drills do not run here: no backupDrillIdentityFile (run `consilium backup drill` where the identity is)');
    } else {
      const file = config.backupDrillIdentityFile;
      jobs.push(
        new Cron(config.backupDrillSchedule, { protect: true, unref: true }, () =>
          track(
            (async () => {
              try {
                const identities = parseIdentityFile(await readFile(file, 'utf8'));
                const { report, files } = await runDrill(deps, { identities });
                (report.ok ? log.info : log.error).call(log, { seq: report.snapshot?.seq ?? null, restoreMs: report.restoreMs, ok: report.ok, report: files.json }, 'scheduled restore drill done');
              } catch (err) {
                log.error({ err }, 'scheduled restore drill failed');
              }
            })(),
          ),
        ),
      );
    }
  }

  if (jobs.length === 0) return null;
  return {
    nextRun: () => jobs[0]!.nextRun(),
    nextDrill: () => (config.backupDrillSchedule && config.backupDrillIdentityFile ? jobs.at(-1)!.nextRun() : null),
    stop: async () => {
      for (const j of jobs) j.stop();
      await Promise.all(running);
    },
  };
}

/** Runs `fn` on a cron schedule (one run at a time) until the process ends; used by `backup drill --schedule`. */
export function runOnSchedule(expression: string, fn: () => Promise<void>): { nextRun(): Date | null; stop(): void } {
  const job = new Cron(expression, { protect: true }, fn);
  return { nextRun: () => job.nextRun(), stop: () => job.stop() };
}
