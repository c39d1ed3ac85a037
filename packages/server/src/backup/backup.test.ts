import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bech32 } from '@scure/base';
import pg from 'pg';
import { seedOrg, signIn, startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { checkpointLogs } from '../audit/checkpointer.js';
import { auditEntriesOfType } from '../test-support/audit.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { generateIdentity, decryptAge } from './age.js';
import { createBackup } from './create.js';
import { loadBackupSigningKey } from './keys.js';
import { verifyTarget } from './verify.js';
import { restoreSnapshot } from './restore.js';
import { checkRestored } from './checks.js';
import { findTarget, openTarget } from './targets.js';
import { recordedChain } from './store.js';
import { readChain } from './chain.js';
import { DEPLOYMENT_LOG } from '../audit/log.js';

let server: TestServer;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
const scratch = mkdtempSync(path.join(tmpdir(), 'consilium-backup-test-'));
const blobIds: string[] = [];

async function addBlob(bytes: Buffer): Promise<string> {
  const id = createHash('sha256').update(bytes).digest('hex');
  async function* body() {
    yield bytes;
  }
  await writeBlob(blobDirOf(server.deps.config), id, body(), 64 * 1024 * 1024);
  blobIds.push(id);
  return id;
}

async function freshDatabaseUrl(): Promise<string> {
  const name = `consilium_restore_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(testPgUrl!);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(url: string) {
  const admin = new pg.Client({ connectionString: testPgUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  await admin.end();
}

beforeAll(async () => {
  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
  server = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient] });
  const org = await seedOrg(server, 'Backup General');
  await seedOrg(server, 'Second Clinic');
  await signIn(server, org.admin.email);
  await addBlob(randomBytes(1000));
  await addBlob(randomBytes(200 * 1024 + 17));
  await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
});

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe(`backups (${testPgUrl ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('creates a signed, chained snapshot; a second one reuses unchanged blobs', async () => {
    const first = await createBackup(server.deps);
    expect(first.seq).toBe(1);
    expect(first.files).toBe(1 + blobIds.length + 1);
    await addBlob(randomBytes(5000));
    const second = await createBackup(server.deps);
    expect(second.seq).toBe(2);
    expect(second.reusedBlobs).toBe(2);
    expect(second.bytesWritten).toBeLessThan(second.bytesTotal);

    const key = loadBackupSigningKey(server.deps.config);
    const target = openTarget(findTarget(server.deps.config));
    const recorded = await recordedChain(server.deps.db, 'local');
    expect(recorded.map((r) => r.seq)).toEqual([1, 2]);
    const report = await verifyTarget(target, key.verifier, { recorded });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, snapshots: 2, latestSeq: 2 });

    // Each run is in the audit log with its manifest hash.
    const rows = await auditEntriesOfType(server, DEPLOYMENT_LOG, 'backup.created');
    expect(rows.map((e) => e.detail.manifestHash)).toEqual([first.manifestHash, second.manifestHash]);

    const full = await verifyTarget(target, key.verifier, { recorded, identities: [escrow.identity] });
    expect(full).toMatchObject({ ok: true, mode: 'read-data' });
    expect(full.objectsRead).toBe(full.objects);

    // The chain keeps one copy of an entry both snapshots name (a reused blob), each its own of the others.
    const chain = await readChain(target, key.verifier);
    const [a, b] = chain.manifests.map((m) => m.body.files);
    const reused = a!.filter((f) => f.kind === 'blob');
    expect(reused.length).toBe(2);
    for (const f of reused) expect(b!.find((g) => g.object === f.object)).toBe(f);
    const added = b!.filter((g) => g.kind === 'blob' && !a!.some((f) => f.object === g.object));
    expect(added.length).toBe(1);
    expect(b!.find((g) => g.path === 'config/config.json')).not.toBe(a!.find((f) => f.path === 'config/config.json'));
  });

  it('restores into a fresh directory, and a server started on it has every account, blob and audit entry', async () => {
    const key = loadBackupSigningKey(server.deps.config);
    const target = openTarget(findTarget(server.deps.config));
    const toDir = path.join(scratch, 'restored');
    const databaseUrl = testPgUrl ? await freshDatabaseUrl() : undefined;
    try {
      const restored = await restoreSnapshot({ target, verifier: key.verifier, snapshot: 'latest', identities: [ops.identity], toDir, ...(databaseUrl && { databaseUrl }) });
      expect(restored.manifest.body.seq).toBe(2);
      const checks = await checkRestored(restored.manifest, { dir: toDir, ...(databaseUrl && { databaseUrl }) });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      for (const id of blobIds) expect(readFileSync(path.join(toDir, 'blobs', id.slice(0, 2), id)).length).toBeGreaterThan(0);
      const config = JSON.parse(readFileSync(path.join(toDir, 'restored-config.json'), 'utf8'));
      expect(config.backupRecipients).toEqual([ops.recipient, escrow.recipient]);

      // The operator supplies the server keys, which are kept apart from the backups (docs).
      for (const f of ['secret.key', 'audit-signing.key']) copyFileSync(path.join(server.dataDir, f), path.join(toDir, f));
      const second = await startTestServer({ dataDir: toDir, ...(databaseUrl && { databaseUrl }) });
      try {
        const live = await server.deps.db.selectFrom('account').select(['id', 'email', 'password_hash']).orderBy('id').execute();
        const back = await second.deps.db.selectFrom('account').select(['id', 'email', 'password_hash']).orderBy('id').execute();
        expect(back).toEqual(live);
        const admin = live.find((a) => a.email.startsWith('admin@backup-general'))!;
        const r = await second.client().post('/api/v1/auth/sign-in', { email: admin.email, password: 'correct horse battery staple' });
        expect(r.status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      if (databaseUrl) await dropDatabase(databaseUrl);
    }
  });

  it('the server data directory, environment and database hold nothing that decrypts a backup', async () => {
    const target = openTarget(findTarget(server.deps.config));
    const manifests = await target.listManifests();
    const note = await target.readManifest(manifests.at(-1)!);
    const object = /"object":"([0-9a-f]{32})"/.exec(note)![1]!;

    // Everything the server has: every file under its data dir (but the backups themselves),
    // its environment, and every text column of every table.
    const haystack: string[] = [JSON.stringify(process.env), JSON.stringify(server.deps.config)];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== path.join(server.dataDir, 'backups')) walk(p);
        } else if (statSync(p).size < 50 * 1024 * 1024) haystack.push(readFileSync(p).toString('latin1'));
      }
    };
    walk(server.dataDir);
    if (testPgUrl) {
      const dump = execFileSync('pg_dump', ['--data-only', server.databaseUrl!], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
      haystack.push(dump.toString('latin1'));
    }
    const all = haystack.join('\n');
    expect(all).not.toContain('AGE-SECRET-KEY-');

    // Any 32-byte secret the server keeps (its secret key, the signing key seeds), tried as an
    // X25519 age identity, decrypts nothing either.
    const candidates: Uint8Array[] = [];
    for (const m of all.matchAll(/[A-Za-z0-9+/]{43}=/g)) {
      const b = Buffer.from(m[0], 'base64');
      if (b.length === 32) candidates.push(b);
      if (candidates.length > 200) break;
    }
    for (const m of all.matchAll(/\+[0-9a-f]{8}\+([A-Za-z0-9+/]{44,})/g)) candidates.push(Buffer.from(m[1]!, 'base64').subarray(-32));
    expect(candidates.length).toBeGreaterThan(0);
    const identities = candidates.map((c) => bech32.encode('AGE-SECRET-KEY-', bech32.toWords(c), false).toUpperCase());
    const bytes = readFileSync(path.join(findTarget(server.deps.config).location, 'objects', object.slice(0, 2), object));
    async function* once() {
      yield bytes;
    }
    await expect(decryptAge(once(), identities, () => {})).rejects.toMatchObject({ kind: 'no-identity' });
    // ...while the escrow identity, kept off the server, does.
    await expect(decryptAge(once(), [escrow.identity], () => {})).resolves.toBeUndefined();
  });

  it('refuses to run with fewer than two recipients', async () => {
    await expect(createBackup(server.deps, { recipients: [ops.recipient] })).rejects.toThrow(/at least two/);
  });
});

