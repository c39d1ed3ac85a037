import { readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { generateIdentity } from './age.js';
import { createBackup } from './create.js';
import { runVerify } from './service.js';
import { loadBackupSigningKey } from './keys.js';
import { planRetention, pruneTarget, RetentionError, type SnapshotAtTarget } from './retention.js';
import { findTarget, openTarget } from './targets.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const snap = (seq: number, time: string, verified = true): SnapshotAtTarget => ({ name: `${String(seq).padStart(10, '0')}-${'0'.repeat(16)}.manifest`, seq, mtimeMs: at(time), verified });

describe('planRetention', () => {
  it('keeps the newest snapshot of each day, ISO week and month, on the given times', () => {
    const snaps = [
      snap(1, '2026-10-05T10:00:00Z'),
      snap(2, '2026-10-20T10:00:00Z'),
      snap(3, '2026-11-02T10:00:00Z'), // Monday, week 45
      snap(4, '2026-11-08T10:00:00Z'), // Sunday, still week 45
      snap(5, '2026-11-09T09:00:00Z'), // Monday, week 46
      snap(6, '2026-11-09T18:00:00Z'),
      snap(7, '2026-11-10T08:00:00Z'),
    ];
    const plan = planRetention(snaps, { keepLast: 1, keepDaily: 2, keepWeekly: 2, keepMonthly: 2 });
    const kept = Object.fromEntries(plan.keep.map((k) => [k.seq, k.reasons]));
    expect(Object.keys(kept).map(Number)).toEqual([2, 4, 6, 7]);
    expect(kept[7]).toEqual(expect.arrayContaining(['last verified', 'daily 2026-11-10', 'weekly 2026-W46', 'monthly 2026-11']));
    expect(kept[6]).toEqual(['daily 2026-11-09']);
    expect(kept[4]).toEqual(['weekly 2026-W45']);
    expect(kept[2]).toEqual(['monthly 2026-10']);
    expect(plan.remove.map((r) => r.seq)).toEqual([1, 3, 5]);
  });

  it('keep-last counts verified snapshots only, and the newest always stays', () => {
    const snaps = [snap(1, '2026-11-01T00:00:00Z'), snap(2, '2026-11-02T00:00:00Z'), snap(3, '2026-11-03T00:00:00Z', false), snap(4, '2026-11-04T00:00:00Z', false)];
    const plan = planRetention(snaps, { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
    expect(plan.keep.map((k) => k.seq)).toEqual([1, 2, 4]);
    expect(plan.remove.map((r) => r.seq)).toEqual([3]);
    expect(() => planRetention(snaps, { keepLast: 0, keepDaily: 9, keepWeekly: 0, keepMonthly: 0 })).toThrow(RetentionError);
  });
});

let server: TestServer;
beforeAll(async () => {
  const ops = await generateIdentity('x25519');
  const escrow = await generateIdentity('x25519');
  server = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient] });
});
afterAll(async () => {
  await server?.stop();
});

describe(`prune a local target (${testPgUrl ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('prunes on file times, keeps the chain verifiable, removes unnamed objects, and refuses a broken chain', async () => {
    const dir = findTarget(server.deps.config).location;
    const now = Date.now();
    for (let i = 0; i < 4; i++) {
      const bytes = randomBytes(1000 + i);
      async function* body() {
        yield bytes;
      }
      await writeBlob(blobDirOf(server.deps.config), createHash('sha256').update(bytes).digest('hex'), body(), 1 << 20);
      await createBackup(server.deps);
    }
    // Snapshots 1 and 2 on one day, 3 and 4 on the next (file times, as the disk recorded them).
    const names = readdirSync(path.join(dir, 'snapshots')).sort();
    names.forEach((n, i) => {
      const t = (now - (i < 2 ? 2 * DAY : DAY) + i * 1000) / 1000;
      utimesSync(path.join(dir, 'snapshots', n), t, t);
    });
    const target = openTarget(findTarget(server.deps.config));
    const verifier = loadBackupSigningKey(server.deps.config).verifier;
    const objectsBefore = (await target.listObjects()).length;
    const result = await pruneTarget(target, verifier, { policy: { keepLast: 1, keepDaily: 2, keepWeekly: 0, keepMonthly: 0 }, orphanGraceMs: 0 });
    expect(result.plan.remove.map((r) => r.seq)).toEqual([1, 3]);
    expect(readdirSync(path.join(dir, 'pruned')).length).toBe(2);
    // Each snapshot's configuration copy (and new database pack) is its own object: those of 1 and 3 are gone.
    expect(result.objectsRemoved).toBeGreaterThanOrEqual(2);
    expect((await target.listObjects()).length).toBe(objectsBefore - result.objectsRemoved);
    const report = await runVerify(server.deps);
    expect(report.problems).toEqual([]);
    expect(report.snapshots).toBe(2);

    // A manifest deleted outright (not pruned) is a gap: prune refuses to touch the target.
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path.join(dir, 'pruned', readdirSync(path.join(dir, 'pruned')).sort()[1]!));
    await expect(pruneTarget(target, verifier, { policy: { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 } })).rejects.toThrow(/refusing to prune/);
  });
});
