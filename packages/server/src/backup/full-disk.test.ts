import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { generateIdentity } from './age.js';
import { createBackup } from './create.js';
import { loadBackupSigningKey } from './keys.js';
import { verifyTarget } from './verify.js';
import { restoreSnapshot } from './restore.js';
import { LocalTarget } from './target.js';
import { recordedChain } from './store.js';

// A backup target that fills up for real: a small tmpfs mounted as the backup directory (needs
// root and mount, as .ci/run has; elsewhere the test says why it skips). The run that hits ENOSPC
// must fail with a clear error, leave the earlier snapshots as they were and verifiable, leave
// no snapshot that verifies but cannot restore, and the next run after space is made must succeed.

const scratch = mkdtempSync(path.join(tmpdir(), 'consilium-full-disk-'));
const mountPoint = path.join(scratch, 'target');

function tryMount(sizeMiB: number): string | null {
  try {
    execFileSync('mkdir', ['-p', mountPoint]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'consilium-full-disk', mountPoint], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs (${String((err as Error).message).split('\n')[0]}): run as root where mount is allowed, as .ci/run does`;
  }
}

const whyNot = process.getuid?.() === 0 ? tryMount(6) : 'needs root to mount a small tmpfs as the backup target, as .ci/run has';
if (whyNot) console.warn(`full-disk.test.ts skipped: ${whyNot}`);

let server: TestServer;
let opsIdentity: string;

async function addBlob(bytes: Buffer) {
  const id = createHash('sha256').update(bytes).digest('hex');
  async function* body() {
    yield bytes;
  }
  await writeBlob(blobDirOf(server.deps.config), id, body(), 64 * 1024 * 1024);
}

const manifests = () => readdirSync(path.join(mountPoint, 'snapshots')).sort();
const verify = async () => verifyTarget(new LocalTarget('local', mountPoint), loadBackupSigningKey(server.deps.config).verifier, {
    recorded: await recordedChain(server.deps.db, 'local'),
  });

beforeAll(async () => {
  if (whyNot) return;
  const ops = await generateIdentity('x25519');
  const escrow = await generateIdentity('x25519');
  server = await startTestServer({ backupRecipients: [ops.recipient, escrow.recipient], backupDir: mountPoint });
  opsIdentity = ops.identity;
});

afterAll(async () => {
  await server?.stop();
  if (!whyNot) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      // Still busy (a file held open by a failed run): detach it now, freed when released.
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(whyNot)(`a backup target that fills up (${testPgUrl ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('fails with a clear error, keeps the earlier snapshot verifiable and restorable, and the next run succeeds once there is room', async () => {
    const first = await createBackup(server.deps);
    expect(first.seq).toBe(1);
    const before = manifests();

    // Random data does not compress or deduplicate: more than the 6 MiB target holds.
    await addBlob(randomBytes(8 * 1024 * 1024));
    const failed = await createBackup(server.deps).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(failed!.message).toMatch(/no space left|full/i);
    expect(manifests()).toEqual(before);
    expect((await verify()).problems).toEqual([]);
    const runs = await server.deps.db.selectFrom('backup_run').select(['outcome', 'detail']).where('kind', '=', 'backup').orderBy('started_at').execute();
    expect(runs.map((r) => r.outcome)).toEqual(['success', 'failure']);
    expect(JSON.parse(runs[1]!.detail).error).toMatch(/no space left|full/i);
    expect(readdirSync(server.dataDir).filter((d) => d.startsWith('.backup-work-'))).toEqual([]);
    // The failed run took its partial object with it: the space is free again, nothing is left in tmp/.
    expect(readdirSync(mountPoint).includes('tmp') ? readdirSync(path.join(mountPoint, 'tmp')) : []).toEqual([]);
    expect(statfsSync(mountPoint).bavail * statfsSync(mountPoint).bsize).toBeGreaterThan(4 * 1024 * 1024);

    // The snapshot from before still restores.
    const restored = path.join(scratch, 'restored');
    if (!testPgUrl) {
      const result = await restoreSnapshot({ target: new LocalTarget('local', mountPoint), verifier: loadBackupSigningKey(server.deps.config).verifier, snapshot: 'latest', identities: [opsIdentity], toDir: restored });
      expect(result.manifest.body.seq).toBe(1);
      rmSync(restored, { recursive: true, force: true });
    }

    // Room is made (the operator grows the volume): the next run succeeds and verifies.
    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
    const next = await createBackup(server.deps);
    expect(next.seq).toBe(2);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect(report.snapshots).toBe(2);
  });
});
