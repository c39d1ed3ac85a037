import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupStatus } from '@consilium/protocol';
import { seedOrg, signIn, startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { checkpointLogs } from '../audit/checkpointer.js';
import { auditEntriesOfType } from '../test-support/audit.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { DEPLOYMENT_LOG } from '../audit/log.js';
import { verifyLog } from '../audit/verify.js';
import { generateIdentity } from './age.js';
import { createBackup } from './create.js';
import { runDrill, runVerify } from './service.js';
import { parseSchedule } from './schedule.js';
import { parseSubset } from './verify.js';

let server: TestServer;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
let org: Awaited<ReturnType<typeof seedOrg>>;
const reports = mkdtempSync(path.join(tmpdir(), 'consilium-drill-reports-'));

beforeAll(async () => {
  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
  server = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient] });
  org = await seedOrg(server, 'Drill Hospital');
  const bytes = randomBytes(150_000);
  async function* body() {
    yield bytes;
  }
  await writeBlob(blobDirOf(server.deps.config), createHash('sha256').update(bytes).digest('hex'), body(), 1 << 20);
  await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
});

afterAll(async () => {
  await server?.stop();
  rmSync(reports, { recursive: true, force: true });
});

const events = async (type: string) =>
  auditEntriesOfType(server, DEPLOYMENT_LOG, type);

describe(`restore drill and status (${testPgUrl ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('drill before any backup fails with a clear error, a report and an audit entry', async () => {
    const { report, files } = await runDrill(server.deps, { identities: [ops.identity], reportDir: reports });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/no snapshot/);
    expect(existsSync(files.markdown)).toBe(true);
    expect((await events('backup.drill')).at(-1).outcome).toBe('failure');
  });

  it('restores the latest snapshot in isolation, checks it, times it, records it and writes the reports', async () => {
    server.clock.advance(60);
    await createBackup(server.deps);
    server.clock.advance(60);
    const second = await createBackup(server.deps);
    server.clock.advance(60);
    const { report, files } = await runDrill(server.deps, { identities: [escrow.identity], reportDir: reports });
    expect(report.error).toBeNull();
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['row counts', 'audit verify', 'blobs']));
    expect(report).toMatchObject({ ok: true, snapshot: { seq: second.seq, manifestHash: second.manifestHash } });
    expect(report.restoreMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toMatchObject({ ok: true, format: 'consilium-backup-drill/v1' });
    expect(readFileSync(files.markdown, 'utf8')).toContain('# Restore drill: PASSED');
    expect(readFileSync(files.html, 'utf8')).toContain('164.308(a)(7)(ii)(D)');
    const drill = (await events('backup.drill')).at(-1);
    expect(drill).toMatchObject({ outcome: 'success', detail: { seq: second.seq, ok: true } });
    // The drill's copy is gone, and the live audit log still verifies with the new entries.
    expect((await verifyLog(server.deps.db, server.deps.auditKey, DEPLOYMENT_LOG)).ok).toBe(true);
  });

  it('verify runs are recorded with their mode and an audit entry', async () => {
    server.clock.advance(60);
    const report = await runVerify(server.deps, { identities: [ops.identity], subset: parseSubset('2/2', server.deps.now()) });
    expect(report).toMatchObject({ ok: true, mode: 'read-data-subset' });
    expect((await events('backup.verified')).at(-1)).toMatchObject({ outcome: 'success', detail: { mode: 'read-data-subset' } });
  });

  it('admins and security officers see the Backups status; clinicians do not', async () => {
    const admin = await signIn(server, org.admin.email);
    const r = await admin.client.get('/api/v1/backups');
    expect(r.status).toBe(200);
    const status = BackupStatus.parse(r.body);
    expect(status.lastBackup).toMatchObject({ outcome: 'success', seq: 2 });
    expect(status.lastDrill).toMatchObject({ outcome: 'success' });
    expect(status.lastDrill!.restoreMs).not.toBeNull();
    expect(status.lastVerify).toMatchObject({ outcome: 'success', mode: 'read-data-subset' });
    expect(status.targets).toEqual([expect.objectContaining({ name: 'local', latestSeq: 2 })]);
    // One local target: two copies, one medium, nothing off-site or immutable: red where it falls short.
    expect(status.rule.copies).toMatchObject({ have: 2, ok: false });
    expect(status.rule.offsite.ok).toBe(false);
    expect(status.rule.immutable.ok).toBe(false);
    expect(status.rule.errors.ok).toBe(true);
    expect(status.history.map((h) => h.kind)).toEqual(expect.arrayContaining(['backup', 'verify', 'drill']));
    // The drill's report is on the page: each check and its result. No drill identity here, so the server does not drill itself.
    expect(status.lastDrill!.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'row counts', ok: true })]));
    expect(status.drillSchedule).toBeNull();
    expect(JSON.stringify(status)).not.toContain('AGE-SECRET-KEY');

    const clinician = await signIn(server, org.clinician.email);
    expect((await clinician.client.get('/api/v1/backups')).status).toBe(403);
    expect((await server.client().get('/api/v1/backups')).status).toBe(401);
  });

  it('a scheduled server backs up on its cron schedule and verifies', async () => {
    expect(() => parseSchedule('not a cron')).toThrow();
    const scheduled = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient], backupSchedule: '* * * * * *' });
    try {
      for (let i = 0; i < 200; i++) {
        const v = await scheduled.deps.db.selectFrom('backup_run').select('id').where('kind', '=', 'verify').where('outcome', '=', 'success').executeTakeFirst();
        if (v) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const runs = await scheduled.deps.db.selectFrom('backup_run').select(['kind', 'outcome']).where('outcome', '=', 'success').execute();
      expect(runs.map((r) => r.kind)).toEqual(expect.arrayContaining(['backup', 'verify']));
    } finally {
      await scheduled.stop();
    }
  });

  it('the server runs its own restore drill on its cron schedule when given a drill identity: audited, report on the Backups page', async () => {
    const identityFile = path.join(reports, 'drill-identity.txt');
    writeFileSync(identityFile, `# drill identity (test)\n${ops.identity}\n`, { mode: 0o600 });
    const drilling = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient], backupDrillSchedule: '* * * * * *', backupDrillIdentityFile: identityFile });
    try {
      const hospital = await seedOrg(drilling, 'Scheduled Drill Hospital');
      const snapshot = await createBackup(drilling.deps);
      let drill;
      for (let i = 0; i < 300 && !drill; i++) {
        // A drill that fired before the snapshot existed failed (and says so); wait for one after it.
        drill = await drilling.deps.db.selectFrom('backup_run').selectAll().where('kind', '=', 'drill').where('outcome', '!=', 'running').where('seq', '=', snapshot.seq).executeTakeFirst();
        if (!drill) await new Promise((r) => setTimeout(r, 100));
      }
      expect(drill).toMatchObject({ outcome: 'success', seq: snapshot.seq });
      const leaf = (await auditEntriesOfType(drilling, DEPLOYMENT_LOG, 'backup.drill')).find((l) => l.detail.seq === snapshot.seq);
      expect(leaf).toMatchObject({ outcome: 'success', detail: { seq: snapshot.seq, ok: true } });
      expect(readdirSync(path.join(drilling.dataDir, 'backup-reports')).some((f) => f.endsWith('.html'))).toBe(true);

      const admin = await signIn(drilling, hospital.admin.email);
      const status = BackupStatus.parse((await admin.client.get('/api/v1/backups')).body);
      expect(status.drillSchedule).toBe('* * * * * *');
      // It drills every second here, so the newest drill may still be running: look it up in the history.
      const passed = status.history.find((h) => h.kind === 'drill' && h.outcome === 'success' && h.seq === snapshot.seq);
      expect(status.lastDrill).not.toBeNull();
      expect(passed!.checks!.length).toBeGreaterThan(2);
      expect(passed!.checks!.every((c) => c.ok)).toBe(true);
    } finally {
      await drilling.stop();
    }
  });
});
