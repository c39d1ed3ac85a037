import type { NoteVerifier } from '@consilium/crypto/note';
import { readChain } from './chain.js';
import { MANIFEST_NAME, manifestName, type BackupTarget } from './target.js';
import { verifyTarget } from './verify.js';

/** keep-last counts verified snapshots only; daily/weekly/monthly keep the newest snapshot of each period (UTC). */
export interface RetentionPolicy {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

export interface SnapshotAtTarget {
  name: string;
  seq: number;
  /** The storage's own modification time of the manifest (SFTP server / file system), never the manifest's createdAt. */
  mtimeMs: number;
  /** Its signature, chain link and every chunk hash checked out in this run. */
  verified: boolean;
}

export interface RetentionPlan {
  keep: { name: string; seq: number; reasons: string[] }[];
  remove: { name: string; seq: number }[];
}

export class RetentionError extends Error {}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
/** ISO 8601 week: the year of the week's Thursday and its week number. */
function week(ms: number): string {
  const d = new Date(ms);
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7));
  const n = Math.ceil(((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(n).padStart(2, '0')}`;
}

/**
 * Which snapshots to keep. Periods come from the target's timestamps only: a compromised writer
 * can sign manifests claiming any createdAt (restic#22057 faked times so a later prune deleted
 * real data), but it cannot set the SFTP server's mtime (setstat is refused to it), so a burst of
 * fake snapshots lands in the current period and displaces nothing older. The last `keepLast`
 * verified snapshots (by chain order) are kept whatever their times.
 */
export function planRetention(snapshots: readonly SnapshotAtTarget[], policy: RetentionPolicy): RetentionPlan {
  if (policy.keepLast < 1) throw new RetentionError('keep-last must be at least 1: the newest verified snapshot is never pruned');
  const reasons = new Map<string, string[]>();
  const mark = (s: SnapshotAtTarget, why: string) => reasons.set(s.name, [...(reasons.get(s.name) ?? []), why]);

  const bySeq = [...snapshots].sort((a, b) => b.seq - a.seq);
  for (const s of bySeq.filter((x) => x.verified).slice(0, policy.keepLast)) mark(s, 'last verified');
  // The chain head stays even if it failed verification: the next backup links to it, and a human looks at it.
  if (bySeq[0]) mark(bySeq[0], 'newest');

  const byTime = [...snapshots].sort((a, b) => b.mtimeMs - a.mtimeMs || b.seq - a.seq);
  const buckets: [string, number, (ms: number) => string][] = [
    ['daily', policy.keepDaily, day],
    ['weekly', policy.keepWeekly, week],
    ['monthly', policy.keepMonthly, month],
  ];
  for (const [label, count, keyOf] of buckets) {
    let last: string | null = null;
    let kept = 0;
    for (const s of byTime) {
      if (kept >= count) break;
      const key = keyOf(s.mtimeMs);
      if (key === last) continue;
      last = key;
      kept++;
      mark(s, `${label} ${key}`);
    }
  }
  const keep = bySeq.filter((s) => reasons.has(s.name)).map((s) => ({ name: s.name, seq: s.seq, reasons: reasons.get(s.name)! }));
  const remove = bySeq.filter((s) => !reasons.has(s.name)).map((s) => ({ name: s.name, seq: s.seq }));
  return { keep: keep.reverse(), remove: remove.reverse() };
}

export interface PruneOptions {
  policy: RetentionPolicy;
  now?: Date;
  /** Objects no manifest names are removed only when older than this (a backup may be writing them). Default 24 h. */
  orphanGraceMs?: number;
  dryRun?: boolean;
}

export interface PruneResult {
  plan: RetentionPlan;
  objectsRemoved: number;
  dryRun: boolean;
}

/**
 * Retention, run with the pruner's credential (on SFTP: the account that owns the directory,
 * never the writer's). It checks the target first (signatures, chain, every chunk hash) and
 * refuses to prune a target whose chain has problems. Manifests it lets go move to pruned/, so
 * the links of the snapshots that remain still verify; then objects no kept manifest names, and
 * older than the grace period, are removed.
 */
export async function pruneTarget(target: BackupTarget, verifier: NoteVerifier, options: PruneOptions): Promise<PruneResult> {
  const now = (options.now ?? new Date()).getTime();
  const grace = options.orphanGraceMs ?? 86_400_000;
  const report = await verifyTarget(target, verifier);
  const chainKinds = new Set(['signature', 'renamed', 'deleted', 'chain', 'forked', 'rolled-back']);
  const chainProblems = report.problems.filter((p) => chainKinds.has(p.kind));
  if (chainProblems.length > 0) {
    throw new RetentionError(`refusing to prune ${target.name}: its chain has problems (${chainProblems.map((p) => p.message).join('; ')})`);
  }
  const damaged = new Set(report.problems.map((p) => p.seq).filter((s): s is number => s !== null));
  const chain = await readChain(target, verifier);
  const times = new Map((await target.listManifestTimes()).map((t) => [t.name, t.mtimeMs]));
  const snapshots: SnapshotAtTarget[] = chain.manifests.map((m) => {
    const name = manifestName(m.body.seq, m.body.snapshotId);
    const mtimeMs = times.get(name);
    if (mtimeMs === undefined) throw new RetentionError(`${name} vanished while pruning`);
    return { name, seq: m.body.seq, mtimeMs, verified: !damaged.has(m.body.seq) };
  });
  const plan = planRetention(snapshots, options.policy);
  if (options.dryRun) return { plan, objectsRemoved: 0, dryRun: true };

  for (const r of plan.remove) {
    if (!MANIFEST_NAME.test(r.name)) continue;
    await target.retireManifest(r.name);
  }
  const keptNames = new Set(plan.keep.map((k) => k.name));
  const named = new Set(chain.manifests.filter((m) => keptNames.has(manifestName(m.body.seq, m.body.snapshotId))).flatMap((m) => m.body.files.map((f) => f.object)));
  let objectsRemoved = 0;
  for (const o of await target.listObjectTimes()) {
    if (named.has(o.name) || now - o.mtimeMs < grace) continue;
    await target.removeObject(o.name);
    objectsRemoved++;
  }
  return { plan, objectsRemoved, dryRun: false };
}
