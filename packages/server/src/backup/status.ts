import type { BackupRunSummary, BackupStatus } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { loadBackupSigningKey } from './keys.js';
import { configuredTargets } from './targets.js';
import * as store from './store.js';

const HISTORY = 50;

function summary(row: store.BackupRun): BackupRunSummary {
  let detail: Record<string, unknown> = {};
  try {
    detail = JSON.parse(row.detail) as Record<string, unknown>;
  } catch {
    /* an unreadable detail only loses the extra fields */
  }
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: row.outcome,
    snapshotId: row.snapshot_id,
    seq: row.seq === null ? null : Number(row.seq),
    bytesWritten: Number(row.bytes_written),
    bytesTotal: Number(row.bytes_total),
    files: Number(row.files),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    restoreMs: typeof detail.restoreMs === 'number' ? detail.restoreMs : null,
    problems: Number(row.problems),
    mode: typeof detail.mode === 'string' ? detail.mode : null,
    error: typeof detail.error === 'string' ? detail.error : null,
    checks: row.kind === 'drill' && Array.isArray(detail.checks) ? (detail.checks as { name: unknown; ok: unknown; detail: unknown }[]).map((c) => ({ name: String(c.name), ok: c.ok === true, detail: String(c.detail) })) : null,
  };
}

/**
 * What the admin console shows: the last backup, verify and drill, each target, and 3-2-1-1-0:
 * 3 copies (the live data counts as one; a target counts once it holds a recorded snapshot),
 * 2 media, 1 off-site, 1 immutable, 0 errors in the last verify and drill.
 */
export async function backupStatus(deps: Deps): Promise<BackupStatus> {
  const { config } = deps;
  const targets = [];
  for (const t of configuredTargets(config)) {
    const last = await store.latestRunForTarget(deps.db, 'backup', t.name);
    const ok = last && last.outcome === 'success' ? last : (await store.recordedSnapshots(deps.db, t.name)).at(-1);
    targets.push({
      name: t.name,
      type: t.type,
      location: t.location,
      medium: t.medium,
      offsite: t.offsite,
      immutable: t.immutable,
      latestSeq: ok && ok.seq !== null ? Number(ok.seq) : null,
      lastBackupAt: last && last.outcome === 'success' ? last.finished_at : null,
    });
  }
  const holding = targets.filter((t) => t.latestSeq !== null);
  // The live data sits on the server's disk: a target on the same kind of medium adds no second one.
  const media = new Set(['disk', ...holding.map((t) => t.medium)]);
  const [lastBackup, lastVerify, lastDrill] = await Promise.all([store.latestRun(deps.db, 'backup'), store.latestRun(deps.db, 'verify'), store.latestRun(deps.db, 'drill')]);
  const errors = (lastVerify && lastVerify.outcome !== 'success' ? 1 : 0) + (lastDrill && lastDrill.outcome !== 'success' ? 1 : 0);
  const copies = 1 + holding.length;
  const offsite = holding.filter((t) => t.offsite).length;
  const immutable = holding.filter((t) => t.immutable).length;
  return {
    schedule: config.backupSchedule || null,
    drillSchedule: config.backupDrillSchedule && config.backupDrillIdentityFile ? config.backupDrillSchedule : null,
    recipients: config.backupRecipients.length,
    verifierKey: loadBackupSigningKey(config).verifierKey,
    lastBackup: lastBackup ? summary(lastBackup) : null,
    lastVerify: lastVerify ? summary(lastVerify) : null,
    lastDrill: lastDrill ? summary(lastDrill) : null,
    targets,
    rule: {
      copies: { have: copies, need: 3, ok: copies >= 3, note: 'live data plus each target holding a snapshot' },
      media: { have: media.size, need: 2, ok: media.size >= 2, note: [...media].join(', ') },
      offsite: { have: offsite, need: 1, ok: offsite >= 1, note: offsite ? 'off-site target holds a snapshot' : 'no off-site target holds a snapshot' },
      immutable: { have: immutable, need: 1, ok: immutable >= 1, note: immutable ? 'immutable (write-once) target holds a snapshot' : 'no immutable target' },
      errors: {
        have: errors,
        need: 0,
        ok: errors === 0 && !!lastVerify && !!lastDrill,
        note: !lastVerify || !lastDrill ? `no ${!lastVerify ? 'verify' : 'drill'} yet` : errors ? 'the last verify or drill failed' : 'last verify and drill passed',
      },
    },
    history: (await store.listRuns(deps.db, HISTORY)).map(summary),
  };
}
