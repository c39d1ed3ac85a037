import { randomBytes } from 'node:crypto';
import type { AuditVerifyJob } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import type { AuditVerifyJobTable } from '../db/schema/audit.js';
import { auditEvent, recordAudit, type Actor } from './record.js';
import { verifyLog, type VerifyReport } from './verify.js';
import * as store from './store.js';

/**
 * Verification started from the admin console runs in the background: a whole log takes seconds
 * (a million entries) and must not hold an HTTP request, nor be started twice at once. A unique
 * index allows one running job per log across server nodes; the job moves its heartbeat forward
 * while it runs, so one lost with its server (heartbeat older than LOST_AFTER_MS) is marked
 * failed and another may start.
 */
const HEARTBEAT_MS = 5_000;
const LOST_AFTER_MS = 60_000;
/** Small pages, and a turn of the event loop between them, so requests keep being served. */
const JOB_BATCH_ROWS = 2_000;

let jobSeq = 0;
/**
 * Job ids sort by creation (wall-clock milliseconds, then a counter), so the latest job is found
 * even when two share a started_at (the injectable clock may stand still).
 */
function newJobId(): string {
  jobSeq = (jobSeq + 1) % 36 ** 4;
  return `${Date.now().toString(36).padStart(9, '0')}${jobSeq.toString(36).padStart(4, '0')}-${randomBytes(6).toString('hex')}`;
}

function toJob(row: AuditVerifyJobTable): AuditVerifyJob {
  const report = row.report ? (JSON.parse(row.report) as VerifyReport & { verifiedAt: string }) : null;
  return {
    id: row.id,
    logId: row.log_id,
    state: row.state,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    result: report,
    error: row.error,
  };
}

/** Jobs this process runs, by database handle: tests and shutdown can wait for them. */
const inFlight = new WeakMap<Db, Set<Promise<void>>>();

/** Resolves when every verification this process runs on `db` has finished. */
export async function settleVerifications(db: Db): Promise<void> {
  await Promise.all([...(inFlight.get(db) ?? [])]);
}

export async function startVerification(deps: Deps, actor: Actor, logId: string): Promise<AuditVerifyJob> {
  const now = deps.now();
  await store.abandonStaleVerifyJobs(deps.db, logId, iso(new Date(now.getTime() - LOST_AFTER_MS)), iso(now));
  const running = await store.runningVerifyJob(deps.db, logId);
  if (running) return toJob(running);
  const row: AuditVerifyJobTable = {
    id: newJobId(),
    log_id: logId,
    requested_by: actor.accountId,
    state: 'running',
    started_at: iso(now),
    heartbeat_at: iso(now),
    finished_at: null,
    report: null,
    error: null,
  };
  try {
    await store.insertVerifyJob(deps.db, row);
  } catch (err) {
    // Another request (or server node) started one in between: the unique index refused this one.
    // Answer that job (it may have finished already).
    const other = await store.latestVerifyJob(deps.db, logId);
    if (other && other.started_at >= row.started_at) return toJob(other);
    throw err;
  }
  run(deps, actor, row);
  return toJob(row);
}

function run(deps: Deps, actor: Actor, row: AuditVerifyJobTable): void {
  const heartbeat = setInterval(() => void store.beatVerifyJob(deps.db, row.id, iso(deps.now())).catch(() => {}), HEARTBEAT_MS);
  heartbeat.unref();
  const job = (async () => {
    try {
      const report = await verifyLog(deps.db, deps.auditKey, row.log_id, { batchRows: JOB_BATCH_ROWS, yieldBetweenBatches: true, index: true });
      const verifiedAt = iso(deps.now());
      // The result and the record that the log was read commit together.
      await inTransaction(deps, async (tx) => {
        await store.finishVerifyJob(tx.db, row.id, { state: 'done', finished_at: verifiedAt, report: JSON.stringify({ ...report, verifiedAt }), error: null });
        await recordAudit(tx, auditEvent(tx, actor, 'audit.read', 'E', { detail: { verify: true, ok: report.ok, entries: report.entries } }));
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // The database may be gone (server shutting down): then the heartbeat stops and the job is marked lost later.
      await store.finishVerifyJob(deps.db, row.id, { state: 'failed', finished_at: iso(deps.now()), report: null, error: `verification failed: ${message}` }).catch(() => {});
    } finally {
      clearInterval(heartbeat);
    }
  })();
  let jobs = inFlight.get(deps.db);
  if (!jobs) inFlight.set(deps.db, (jobs = new Set()));
  jobs.add(job);
  void job.finally(() => jobs.delete(job));
}

export async function verificationJob(deps: Pick<Deps, 'db'>, logId: string, id: string): Promise<AuditVerifyJob | null> {
  const row = await store.verifyJob(deps.db, logId, id);
  return row ? toJob(row) : null;
}

export async function latestVerification(deps: Pick<Deps, 'db'>, logId: string): Promise<AuditVerifyJob | null> {
  const row = await store.latestVerifyJob(deps.db, logId);
  return row ? toJob(row) : null;
}
