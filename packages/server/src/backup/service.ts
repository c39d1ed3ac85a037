import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { NoteVerifier } from '@consilium/crypto/note';
import { loadPg } from '../db/database.js';
import { iso, inTransaction, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import { loadBackupSigningKey } from './keys.js';
import { backupVerifier } from './manifest.js';
import { findTarget, openTarget, PRIMARY_TARGET } from './targets.js';
import { verifyTarget, type BackupVerifyReport } from './verify.js';
import { restoreSnapshot } from './restore.js';
import { checkRestored, type RestoreCheck } from './checks.js';
import { drillHtml, drillMarkdown, type DrillReport } from './report.js';
import { recordFailure } from './create.js';
import type { RecordedSnapshot } from './chain.js';
import * as store from './store.js';

/** The verifier key to check manifests with: pinned by the caller, or this deployment's own. */
function verifierFor(deps: Deps, verifierKey?: string): NoteVerifier {
  return verifierKey ? backupVerifier(verifierKey) : loadBackupSigningKey(deps.config).verifier;
}

export async function recordedFor(deps: Deps, target: string): Promise<RecordedSnapshot[]> {
  return store.recordedChain(deps.db, target);
}

async function startRun(deps: Deps, kind: 'verify' | 'drill', target: string): Promise<string> {
  const id = randomUUID();
  await store.insertStartedRun(deps.db, id, kind, target, iso(deps.now()));
  return id;
}

export interface VerifyRunOptions {
  target?: string;
  identities?: readonly string[];
  subset?: { n: number; t: number };
  verifierKey?: string;
  actor?: Actor;
}

/** `backup verify`: checks a target against this server's record, and records the run and an audit entry. */
export async function runVerify(deps: Deps, options: VerifyRunOptions = {}): Promise<BackupVerifyReport> {
  const info = findTarget(deps.config, options.target);
  const actor = options.actor ?? systemActor(null);
  const runId = await startRun(deps, 'verify', info.name);
  const t0 = performance.now();
  const target = openTarget(info);
  try {
    const report = await verifyTarget(target, verifierFor(deps, options.verifierKey), {
      recorded: await recordedFor(deps, info.name),
      ...(options.identities && { identities: options.identities }),
      ...(options.subset && { subset: options.subset }),
    });
    const durationMs = Math.round(performance.now() - t0);
    await inTransaction(deps, async (tx) => {
      await store.updateRun(tx.db, runId, {
        finished_at: iso(deps.now()),
        outcome: report.ok ? 'success' : 'failure',
        seq: report.latestSeq,
        bytes_total: report.bytes,
        files: report.objects,
        duration_ms: durationMs,
        problems: report.problems.length,
        detail: JSON.stringify({ mode: report.mode, snapshots: report.snapshots, objectsRead: report.objectsRead, subset: options.subset ?? null, problems: report.problems.slice(0, 20) }),
      });
      await recordAudit(
        tx,
        auditEvent(tx, actor, 'backup.verified', 'E', {
          organisationId: null,
          outcome: report.ok ? 'success' : 'failure',
          purposeOfUse: 'HSYSADMIN',
          detail: { target: info.name, mode: report.mode, snapshots: report.snapshots, latestSeq: report.latestSeq, problems: report.problems.length },
        }),
      );
    });
    return report;
  } catch (err) {
    await recordFailure(deps, runId, 'verify', info.name, actor, err, Math.round(performance.now() - t0));
    throw err;
  } finally {
    await target.close().catch(() => {});
  }
}

export interface DrillOptions {
  identities: readonly string[];
  target?: string;
  /** Where the Markdown, HTML and JSON reports go. Default: dataDir/backup-reports. */
  reportDir?: string;
  verifierKey?: string;
  actor?: Actor;
}

export interface DrillResult {
  report: DrillReport;
  files: { json: string; markdown: string; html: string };
}

/**
 * Restore drill: restores the latest snapshot into an isolated temporary directory (and, for
 * PostgreSQL, a temporary database on the same server), runs the restore checks, measures the
 * time to restore, writes the reports, records the run and an audit entry, and removes the copy.
 */
export async function runDrill(deps: Deps, options: DrillOptions): Promise<DrillResult> {
  const info = findTarget(deps.config, options.target);
  const actor = options.actor ?? systemActor(null);
  const runId = await startRun(deps, 'drill', info.name);
  const startedAt = iso(deps.now());
  const t0 = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'consilium-drill-'));
  const toDir = path.join(dir, 'data');
  let tempDb: { url: string; drop(): Promise<void> } | null = null;
  let report: DrillReport;
  const target = openTarget(info);
  try {
    if (deps.dbKind === 'postgres') tempDb = await temporaryDatabase(deps.config.databaseUrl!);
    let restoreMs = 0;
    let checksMs = 0;
    let checks: RestoreCheck[] = [];
    let snapshot: DrillReport['snapshot'] = null;
    let files = 0;
    let bytes = 0;
    let chainProblems: string[] = [];
    let error: string | null = null;
    try {
      const restored = await restoreSnapshot({
        target,
        verifier: verifierFor(deps, options.verifierKey),
        snapshot: 'latest',
        identities: options.identities,
        toDir,
        ...(tempDb && { databaseUrl: tempDb.url }),
      });
      restoreMs = Math.round(performance.now() - t0);
      const m = restored.manifest;
      snapshot = { id: m.body.snapshotId, seq: m.body.seq, createdAt: m.body.createdAt, manifestHash: m.hash, database: m.body.database };
      files = restored.files;
      bytes = restored.bytes;
      chainProblems = restored.chainProblems.map((p) => p.message);
      const c0 = performance.now();
      checks = await checkRestored(m, { dir: toDir, ...(tempDb && { databaseUrl: tempDb.url }) });
      checksMs = Math.round(performance.now() - c0);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      restoreMs = restoreMs || Math.round(performance.now() - t0);
    }
    report = {
      format: 'consilium-backup-drill/v1',
      ok: error === null && checks.length > 0 && checks.every((c) => c.ok) && chainProblems.length === 0,
      startedAt,
      finishedAt: iso(deps.now()),
      host: hostname(),
      target: info.name,
      snapshot,
      restoreMs,
      checksMs,
      totalMs: Math.round(performance.now() - t0),
      files,
      bytes,
      checks,
      chainProblems,
      error,
    };
  } finally {
    await target.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    await tempDb?.drop().catch(() => {});
  }

  const reportDir = options.reportDir ?? path.join(deps.config.dataDir, 'backup-reports');
  await mkdir(reportDir, { recursive: true, mode: 0o700 });
  const stem = path.join(reportDir, `drill-${startedAt.replace(/[:.]/g, '-')}`);
  const out = { json: `${stem}.json`, markdown: `${stem}.md`, html: `${stem}.html` };
  await writeFile(out.json, JSON.stringify(report, null, 2) + '\n', { mode: 0o600 });
  await writeFile(out.markdown, drillMarkdown(report), { mode: 0o600 });
  await writeFile(out.html, drillHtml(report), { mode: 0o600 });

  await inTransaction(deps, async (tx) => {
    await store.updateRun(tx.db, runId, {
      finished_at: iso(deps.now()),
      outcome: report.ok ? 'success' : 'failure',
      snapshot_id: report.snapshot?.id ?? null,
      seq: report.snapshot?.seq ?? null,
      manifest_hash: report.snapshot?.manifestHash ?? null,
      bytes_total: report.bytes,
      files: report.files,
      duration_ms: report.totalMs,
      problems: report.checks.filter((c) => !c.ok).length + report.chainProblems.length + (report.error ? 1 : 0),
      detail: JSON.stringify({ restoreMs: report.restoreMs, checksMs: report.checksMs, report: out.json, error: report.error, checks: report.checks }),
    });
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'backup.drill', 'E', {
        organisationId: null,
        outcome: report.ok ? 'success' : 'failure',
        purposeOfUse: 'HSYSADMIN',
        entity: report.snapshot ? { type: 'backup_snapshot', id: report.snapshot.id } : null,
        detail: { target: info.name, seq: report.snapshot?.seq ?? null, restoreMs: report.restoreMs, totalMs: report.totalMs, ok: report.ok },
      }),
    );
  });
  return { report, files: out };
}

/** A throwaway database beside the live one (needs CREATEDB), for PostgreSQL drills. */
async function temporaryDatabase(liveUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `consilium_drill_${randomBytes(6).toString('hex')}`;
  const pg = await loadPg();
  const admin = new pg.Client({ connectionString: liveUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(liveUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: liveUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export { PRIMARY_TARGET };
