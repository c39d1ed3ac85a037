import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { CHUNK_CIPHERTEXT, generateIdentity } from './age.js';
import { createBackup } from './create.js';
import { loadBackupSigningKey } from './keys.js';
import { openManifest, signManifest } from './manifest.js';
import { verifyTarget, inSubset } from './verify.js';
import { restoreSnapshot, RestoreError } from './restore.js';
import { LocalTarget, manifestName } from './target.js';
import { findTarget } from './targets.js';
import { recordedChain } from './store.js';
import { readChainForWriter, type RecordedSnapshot } from './chain.js';
import { VERIFIED_FILE, verifiedManifests } from './verified-manifests.js';

let server: TestServer;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
let original: string;
let recorded: RecordedSnapshot[];
const scratch = mkdtempSync(path.join(tmpdir(), 'consilium-tamper-'));
let copies = 0;

async function addBlob(bytes: Buffer) {
  const id = createHash('sha256').update(bytes).digest('hex');
  async function* body() {
    yield bytes;
  }
  await writeBlob(blobDirOf(server.deps.config), id, body(), 64 * 1024 * 1024);
}

/** A fresh copy of the backup target to damage. */
function copy(): LocalTarget {
  const dir = path.join(scratch, `copy-${copies++}`);
  cpSync(original, dir, { recursive: true });
  return new LocalTarget('local', dir);
}

function manifestsOf(t: LocalTarget) {
  return readdirSync(path.join(t.location, 'snapshots')).sort();
}

/** The biggest blob object of the latest snapshot (several chunks). */
function bigObject(t: LocalTarget) {
  const key = loadBackupSigningKey(server.deps.config);
  const m = openManifest(readFileSync(path.join(t.location, 'snapshots', manifestsOf(t).at(-1)!), 'utf8'), key.verifier);
  const f = [...m.body.files].sort((a, b) => b.encryptedSize - a.encryptedSize).find((x) => x.kind === 'blob')!;
  return { file: f, path: path.join(t.location, 'objects', f.object.slice(0, 2), f.object), manifest: m };
}

/**
 * Someone with the signing key replaces snapshot 3 by a different one (without its last file,
 * under snapshot id `id`). Returns the original manifest.
 */
async function forgeThird(t: LocalTarget, id: string) {
  const key = loadBackupSigningKey(server.deps.config);
  const third = manifestsOf(t)[2]!;
  const original = openManifest(readFileSync(path.join(t.location, 'snapshots', third), 'utf8'), key.verifier);
  const forged = signManifest({ ...original.body, snapshotId: id, files: original.body.files.slice(0, -1) }, key.signer);
  unlinkSync(path.join(t.location, 'snapshots', third));
  await t.putManifest(manifestName(3, id), forged.note);
  return original;
}

const verify = (t: LocalTarget, extra: Parameters<typeof verifyTarget>[2] = {}) => verifyTarget(t, loadBackupSigningKey(server.deps.config).verifier, { recorded, ...extra });

beforeAll(async () => {
  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
  server = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient] });
  await addBlob(randomBytes(4 * 64 * 1024 + 300));
  await createBackup(server.deps);
  await addBlob(randomBytes(10));
  await createBackup(server.deps);
  await addBlob(randomBytes(3 * 64 * 1024));
  await createBackup(server.deps);
  original = findTarget(server.deps.config).location;
  recorded = await recordedChain(server.deps.db, 'local');
});

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const kinds = (r: { problems: { kind: string }[] }) => [...new Set(r.problems.map((p) => p.kind))].sort();

describe('verify finds every kind of damage without a decryption key', () => {
  it('an untouched target verifies', async () => {
    const r = await verify(copy());
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, snapshots: 3, latestSeq: 3, mode: 'structure', objectsRead: 0 });
  });

  it('a flipped bit in a chunk', async () => {
    const t = copy();
    const { path: p } = bigObject(t);
    const bytes = readFileSync(p);
    bytes[bytes.length - CHUNK_CIPHERTEXT - 5] ^= 0x10;
    writeFileSync(p, bytes);
    expect(kinds(await verify(t))).toEqual(['chunk']);
  });

  it('a truncated object', async () => {
    const t = copy();
    const { path: p, file } = bigObject(t);
    truncateSync(p, file.encryptedSize - 100);
    expect(kinds(await verify(t))).toContain('truncated');
  });

  it('reordered chunks', async () => {
    const t = copy();
    const { path: p, file } = bigObject(t);
    const bytes = readFileSync(p);
    // Payload chunks start after the header and the 16-byte nonce; swap the first two (full) ones.
    const first = headerAndNonce(bytes);
    expect(file.chunks.length).toBeGreaterThan(2);
    const a = bytes.subarray(first, first + CHUNK_CIPHERTEXT);
    const b = bytes.subarray(first + CHUNK_CIPHERTEXT, first + 2 * CHUNK_CIPHERTEXT);
    writeFileSync(p, Buffer.concat([bytes.subarray(0, first), b, a, bytes.subarray(first + 2 * CHUNK_CIPHERTEXT)]));
    const r = await verify(t);
    expect(kinds(r)).toEqual(['chunk']);
    expect(r.problems.some((x) => /reordered/.test(x.message))).toBe(true);
  });

  it('a deleted object', async () => {
    const t = copy();
    unlinkSync(bigObject(t).path);
    expect(kinds(await verify(t))).toEqual(['missing']);
  });

  it('a deleted snapshot in the middle of the chain', async () => {
    const t = copy();
    unlinkSync(path.join(t.location, 'snapshots', manifestsOf(t)[1]!));
    const r = await verify(t);
    expect(kinds(r)).toEqual(['deleted']);
    expect(r.problems[0]!.seq).toBe(2);
  });

  it('a rolled-back chain (newest snapshot deleted), against the server record', async () => {
    const t = copy();
    unlinkSync(path.join(t.location, 'snapshots', manifestsOf(t)[2]!));
    expect(kinds(await verify(t))).toEqual(['rolled-back']);
    // Without the record, the shorter chain is self-consistent: the record is what catches it.
    expect((await verifyTarget(t, loadBackupSigningKey(server.deps.config).verifier)).ok).toBe(true);
  });

  it('a forked chain: another signed manifest for a recorded seq', async () => {
    const key = loadBackupSigningKey(server.deps.config);
    const t = copy();
    const third = await forgeThird(t, 'f'.repeat(16));
    expect(kinds(await verify(t))).toEqual(['forked']);
    // Two manifests for one seq are a fork even without the record.
    await t.putManifest(manifestName(3, third.body.snapshotId), third.note);
    expect(kinds(await verifyTarget(t, key.verifier))).toEqual(['forked']);
  });

  it('an edited manifest', async () => {
    const t = copy();
    const p = path.join(t.location, 'snapshots', manifestsOf(t)[1]!);
    writeFileSync(p, readFileSync(p, 'utf8').replace(/"size":(\d)/, '"size":9$1'));
    expect(kinds(await verify(t))).toContain('signature');
  });
});

describe("the writer's chain check at the start of a backup (manifests it opened before come from its memo)", () => {
  const writerCheck = async (t: LocalTarget) => {
    const key = loadBackupSigningKey(server.deps.config);
    const seen = await verifiedManifests(server.deps.config.dataDir, key.dedupKey, key.verifier, key.signer);
    return readChainForWriter(t, seen.verifier, recorded, seen);
  };

  it('opens none of the manifests it wrote, and hands over the newest in full', async () => {
    const t = copy();
    const r = await writerCheck(t);
    expect(r.problems).toEqual([]);
    expect(r.opened).toBe(0);
    const key = loadBackupSigningKey(server.deps.config);
    const newest = openManifest(readFileSync(path.join(t.location, 'snapshots', manifestsOf(t)[2]!), 'utf8'), key.verifier);
    expect(r.newest).toEqual({ body: newest.body, hash: newest.hash });
  });

  it('finds what verify finds: a deleted, rolled-back, forked or edited manifest', async () => {
    const deleted = copy();
    unlinkSync(path.join(deleted.location, 'snapshots', manifestsOf(deleted)[1]!));
    expect(kinds(await writerCheck(deleted))).toEqual(['deleted']);
    const rolledBack = copy();
    unlinkSync(path.join(rolledBack.location, 'snapshots', manifestsOf(rolledBack)[2]!));
    const r = await writerCheck(rolledBack);
    expect(kinds(r)).toEqual(['rolled-back']);
    expect(r.newest?.body.seq).toBe(2);
    const forked = copy();
    await forgeThird(forked, 'e'.repeat(16));
    const f = await writerCheck(forked);
    expect(kinds(f)).toEqual(['forked']);
    // Bytes it has not seen are opened (signature and all).
    expect(f.opened).toBe(1);
    const edited = copy();
    const p = path.join(edited.location, 'snapshots', manifestsOf(edited)[1]!);
    writeFileSync(p, readFileSync(p, 'utf8').replace(/"size":(\d)/, '"size":9$1'));
    // Refused, and so also missing from the chain: the same two findings as verify's.
    expect(kinds(await writerCheck(edited))).toEqual(['deleted', 'signature']);
    expect(kinds(await verify(edited))).toEqual(['deleted', 'signature']);
  });

  it('a memo file written without the key is not believed', async () => {
    const file = path.join(server.deps.config.dataDir, VERIFIED_FILE);
    const saved = readFileSync(file, 'utf8');
    try {
      const memo = JSON.parse(saved) as { heads: { seq: number }[] };
      // Heads claiming other seqs (an attacker hiding a gap): their HMACs fail, so each manifest is opened.
      writeFileSync(file, JSON.stringify({ ...memo, heads: memo.heads.map((h) => ({ ...h, seq: h.seq + 1 })) }));
      const r = await writerCheck(copy());
      expect(r.problems).toEqual([]);
      expect(r.opened).toBe(3);
    } finally {
      writeFileSync(file, saved);
    }
  });
});

describe('reading data', () => {
  it('--read-data decrypts everything; subsets 1..t together read every object once', async () => {
    const t = copy();
    const all = await verify(t, { identities: [ops.identity] });
    expect(all).toMatchObject({ ok: true, mode: 'read-data' });
    expect(all.objectsRead).toBe(all.objects);
    let sum = 0;
    for (let n = 1; n <= 3; n++) sum += (await verify(t, { identities: [ops.identity], subset: { n, t: 3 } })).objectsRead;
    expect(sum).toBe(all.objects);
    expect(inSubset('0'.repeat(32), { n: 1, t: 1 })).toBe(true);
  });

  it('restore with a wrong identity fails clearly and leaves nothing', async () => {
    const other = await generateIdentity('x25519');
    const to = path.join(scratch, 'wrong-identity');
    const err = await restoreSnapshot({ target: copy(), verifier: loadBackupSigningKey(server.deps.config).verifier, snapshot: 'latest', identities: [other.identity], toDir: to, ...(testPgUrl && { databaseUrl: 'postgres://postgres@127.0.0.1:5432/not_reached' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreError);
    expect((err as Error).message).toMatch(/wrong identity/);
    expect(existsSync(to)).toBe(false);
  });

  it('restore of a damaged snapshot fails and leaves nothing; an older intact one restores', async () => {
    const t = copy();
    // A database object that only the latest snapshot names (blobs, and unchanged SQLite blocks'
    // packs, are shared between snapshots).
    const { manifest } = bigObject(t);
    const key = loadBackupSigningKey(server.deps.config);
    const older = manifestsOf(t).slice(0, -1).flatMap((name) => openManifest(readFileSync(path.join(t.location, 'snapshots', name), 'utf8'), key.verifier).body.files.map((f) => f.object));
    const db = manifest.body.files.find((f) => f.kind === 'database' && !older.includes(f.object))!;
    const p = path.join(t.location, 'objects', db.object.slice(0, 2), db.object);
    const bytes = readFileSync(p);
    bytes[bytes.length - 3] ^= 1;
    writeFileSync(p, bytes);
    const verifier = loadBackupSigningKey(server.deps.config).verifier;
    const to = path.join(scratch, 'damaged');
    await expect(restoreSnapshot({ target: t, verifier, snapshot: 'latest', identities: [escrow.identity], toDir: to, ...(testPgUrl && { databaseUrl: 'postgres://postgres@127.0.0.1:5432/not_reached' }) })).rejects.toBeInstanceOf(RestoreError);
    expect(existsSync(to)).toBe(false);
    if (!testPgUrl) {
      const ok = await restoreSnapshot({ target: t, verifier, snapshot: '2', identities: [escrow.identity], toDir: to });
      expect(ok.manifest.body.seq).toBe(2);
      expect(existsSync(path.join(to, 'consilium.sqlite'))).toBe(true);
    }
  });
});

describe('a backup killed half way (kill -9)', () => {
  it('leaves earlier snapshots intact and no snapshot that verifies; the next run succeeds', async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = path.join(scratch, 'interrupted-run.mts');
    writeFileSync(
      script,
      `import { loadConfig } from ${JSON.stringify(path.join(here, '../config.ts'))};
import { openDeps } from ${JSON.stringify(path.join(here, '../server.ts'))};
import { createBackup } from ${JSON.stringify(path.join(here, 'create.ts'))};
const config = loadConfig(JSON.parse(process.argv[2]), {});
const { deps } = await openDeps(config);
let n = 0;
await createBackup(deps, { onObject: async () => { if (++n === 2) { process.stdout.write('stored 2\\n'); await new Promise(() => {}); } } });
`,
    );
    await addBlob(randomBytes(100_000));
    const before = manifestsOf(new LocalTarget('local', original));
    const config = { ...server.deps.config, logLevel: 'silent' };
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.join(here, '../../../..') });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('stored 2') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited ${code} before the kill: ${err}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const target = new LocalTarget('local', original);
    expect(manifestsOf(target)).toEqual(before);
    const r = await verifyTarget(target, loadBackupSigningKey(server.deps.config).verifier, { recorded });
    expect(r.problems).toEqual([]);
    expect(r.snapshots).toBe(3);
    // The next run takes over the lock and marks the killed run as interrupted.
    const next = await createBackup(server.deps);
    expect(next.seq).toBe(4);
    const killed = await server.deps.db.selectFrom('backup_run').select(['outcome', 'detail']).where('kind', '=', 'backup').where('outcome', '=', 'failure').execute();
    expect(killed.map((r) => JSON.parse(r.detail).error)).toEqual([expect.stringMatching(/interrupted/)]);
    expect(readdirSync(server.dataDir).filter((d) => d.startsWith('.backup-work-'))).toEqual([]);
  });
});

function headerAndNonce(bytes: Buffer): number {
  const end = bytes.indexOf('\n---');
  return bytes.indexOf(0x0a, end + 1) + 1 + 16;
}
