import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client, type SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, testPgUrl, type TestServer } from '../test-support/harness.js';
import { writeBlob, blobDirOf } from '../attachments/blob-store.js';
import { generateIdentity } from './age.js';
import { createBackup } from './create.js';
import { runVerify } from './service.js';
import { restoreSnapshot } from './restore.js';
import { checkRestored } from './checks.js';
import { loadBackupSigningKey } from './keys.js';
import { openManifest } from './manifest.js';
import { planRetention, pruneTarget } from './retention.js';
import { SftpTarget, SftpTargetError, type SftpCredential } from './sftp.js';
import { findTarget, openTarget } from './targets.js';

/*
 * The SFTP target against Debian's OpenSSH on loopback: this test starts its own sshd (own config,
 * own host key, a free high port) and makes two system accounts, a writer (what the server holds)
 * and a pruner that owns the directory. It needs root (useradd, sshd) and openssh-server.
 */
const SSHD = '/usr/sbin/sshd';
const why = process.getuid?.() !== 0 ? 'not running as root (needs useradd and sshd)' : !existsSync(SSHD) ? `${SSHD} is missing (apt-get install openssh-server)` : null;
if (why) console.warn(`backup/sftp.test.ts skipped: ${why}`);

const suffix = randomBytes(3).toString('hex');
const writer = `cbw${suffix}`;
const pruner = `cbp${suffix}`;
const DAY = 86_400_000;
let base: string;
let targetDir: string;
let sshd: ChildProcess | null = null;
let port: number;
let hostKeyFingerprint: string;
let server: TestServer;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
let usersMade = false;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitForPort(p: number) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = tcpConnect(p, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${p}`);
}

const cred = (user: string, key = path.join(base, `${user}.key`)): SftpCredential => ({ host: '127.0.0.1', port, username: user, privateKeyFile: key, hostKeyFingerprint, path: targetDir });

/** A raw SFTP session as `user`, to try what the target class never does. */
async function rawSftp(user: string): Promise<{ sftp: SFTPWrapper; end(): void }> {
  const client = new Client();
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    client.on('error', reject);
    client.on('ready', () => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    client.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(path.join(base, `${user}.key`)), hostVerifier: () => true });
  });
  return { sftp, end: () => client.end() };
}

/** The SFTP status code of a refused request (3: permission denied, 4: failure). */
const statusOf = (fn: (cb: (err?: Error | null) => void) => void) =>
  new Promise<number>((resolve) => fn((err) => resolve(err ? Number((err as unknown as { code: number }).code) : 0)));

async function addBlob(bytes: Buffer) {
  async function* body() {
    yield bytes;
  }
  await writeBlob(blobDirOf(server.deps.config), createHash('sha256').update(bytes).digest('hex'), body(), 64 * 1024 * 1024);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifestsIn = (dir: string) => (existsSync(path.join(targetDir, dir)) ? readdirSync(path.join(targetDir, dir)).sort() : []);
const seqOf = (name: string) => Number(name.slice(0, 10));
const objectsOnDisk = () => readdirSync(path.join(targetDir, 'objects')).flatMap((d) => readdirSync(path.join(targetDir, 'objects', d)));
let orphans: string[] = [];

beforeAll(async () => {
  if (why) return;
  base = mkdtempSync(path.join(tmpdir(), 'consilium-sftp-'));
  chmodSync(base, 0o755);
  sh('useradd', ['--system', '--password', '*', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', pruner]);
  sh('useradd', ['--system', '--password', '*', '--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', pruner, writer]);
  usersMade = true;
  const uid = (u: string) => Number(sh('id', ['-u', u]).trim());
  const gid = Number(sh('id', ['-g', pruner]).trim());

  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(base, 'host_key')]);
  hostKeyFingerprint = sh('ssh-keygen', ['-lf', path.join(base, 'host_key.pub')]).split(' ')[1]!;
  mkdirSync(path.join(base, 'authorized'), { mode: 0o755 });
  for (const u of [writer, pruner]) {
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(base, `${u}.key`)]);
    writeFileSync(path.join(base, 'authorized', u), readFileSync(path.join(base, `${u}.key.pub`)), { mode: 0o644 });
  }
  // '--password *': no password, but not locked ('!'), which sshd would refuse even for keys.
  // The target belongs to the pruner; the writer reaches it through the pruner's group only.
  targetDir = path.join(base, 'target');
  mkdirSync(targetDir);
  chownSync(targetDir, uid(pruner), gid);
  chmodSync(targetDir, 0o2750);

  port = await freePort();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(base, 'host_key')}`,
    `PidFile ${path.join(base, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(base, 'authorized', '%u')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AllowUsers ${writer} ${pruner}`,
    'Subsystem sftp internal-sftp',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    // The writer may create and write new files, never remove, rename, re-time or chmod anything;
    // umask 0222 makes every file it creates read-only, so it cannot reopen one for writing.
    `Match User ${writer}`,
    '  ForceCommand internal-sftp -P remove,rmdir,rename,posix-rename,setstat,fsetstat,lsetstat,hardlink,symlink,copy-data -u 0222',
    `Match User ${pruner}`,
    '  ForceCommand internal-sftp -u 0027',
    '',
  ].join('\n');
  writeFileSync(path.join(base, 'sshd_config'), config);
  sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(base, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  sshd.on('exit', (c) => c && console.warn(`sshd exited ${c}: ${log}`));
  await waitForPort(port);

  // The owner lays the target out once (the writer could not make directories it can write into).
  const owner = new SftpTarget('offsite', cred(pruner));
  await owner.prepareLayout();
  await owner.close();

  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
  server = await startTestServer({
    backupRecipients: [ops.recipient, escrow.recipient],
    backupTargets: [{ name: 'offsite', type: 'sftp', host: '127.0.0.1', port, username: writer, privateKeyFile: path.join(base, `${writer}.key`), hostKeyFingerprint, path: targetDir, offsite: true }],
  });
  await addBlob(randomBytes(3 * 64 * 1024 + 17));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (sshd) {
    sshd.kill('SIGTERM');
    await new Promise((r) => sshd!.once('exit', r));
  }
  if (usersMade) {
    for (const u of [writer, pruner]) {
      try {
        sh('userdel', [u]);
      } catch {
        /* already gone */
      }
    }
    try {
      sh('groupdel', [pruner]);
    } catch {
      /* userdel removed the group */
    }
  }
  if (base) rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!!why)(`SFTP target on OpenSSH (${testPgUrl ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('the writer uploads snapshots that verify and restore; files belong to the writer, read-only, in the owner\'s group', async () => {
    const first = await createBackup(server.deps, { target: 'offsite' });
    await addBlob(randomBytes(1000));
    const second = await createBackup(server.deps, { target: 'offsite' });
    expect(second.seq).toBe(first.seq + 1);
    expect(second.reusedBlobs).toBe(1);
    expect(manifestsIn('snapshots').map(seqOf)).toEqual([1, 2]);
    const st = statSync(path.join(targetDir, 'snapshots', manifestsIn('snapshots')[0]!));
    expect(st.mode & 0o777).toBe(0o444);
    expect(st.uid).toBe(Number(sh('id', ['-u', writer]).trim()));

    const report = await runVerify(server.deps, { target: 'offsite' });
    expect(report.problems).toEqual([]);
    expect(report.snapshots).toBe(2);

    const target = openTarget(findTarget(server.deps.config, 'offsite'));
    const toDir = path.join(base, 'restored-1');
    try {
      const restored = await restoreSnapshot({ target, verifier: loadBackupSigningKey(server.deps.config).verifier, snapshot: 'latest', identities: [escrow.identity], toDir, ...(server.databaseUrl && { databaseUrl: await scratchDb() }) });
      expect(restored.manifest.body.seq).toBe(2);
      const checks = await checkRestored(restored.manifest, { dir: toDir, ...(server.databaseUrl && { databaseUrl: lastScratch! }) });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      await target.close();
      await dropScratch();
    }
  });

  it('the writer cannot delete, rename, overwrite or re-time what it wrote', async () => {
    const name = manifestsIn('snapshots')[0]!;
    const file = path.join(targetDir, 'snapshots', name);
    const manifestPath = file;
    const before = sha(file);
    const m = openManifest(readFileSync(file, 'utf8'), loadBackupSigningKey(server.deps.config).verifier);
    const object = m.body.files[0]!.object;
    const objectPath = path.join(targetDir, 'objects', object.slice(0, 2), object);
    const objectBefore = sha(objectPath);
    const { sftp, end } = await rawSftp(writer);
    try {
      expect(await statusOf((cb) => sftp.unlink(manifestPath, cb))).toBe(3);
      expect(await statusOf((cb) => sftp.unlink(objectPath, cb))).toBe(3);
      expect(await statusOf((cb) => sftp.rename(manifestPath, `${manifestPath}.x`, cb))).toBe(3);
      // posix-rename@openssh.com: a server that refuses it does not even offer it (ssh2 then throws before sending).
      const posixRename = await statusOf((cb) => sftp.ext_openssh_rename(manifestPath, path.join(targetDir, 'snapshots', '9999999999-0000000000000000.manifest'), cb)).catch((err: Error) => err.message);
      expect([3, 'Server does not support this extended request']).toContain(posixRename);
      expect(await statusOf((cb) => sftp.utimes(manifestPath, 0, Date.parse('2020-01-01') / 1000, cb))).toBe(3);
      expect(await statusOf((cb) => sftp.chmod(objectPath, 0o644, cb))).toBe(3);
      expect(await statusOf((cb) => sftp.rmdir(path.join(targetDir, 'objects', object.slice(0, 2)), cb))).toBe(3);
      // Opening for writing: refused by the file's mode; with O_EXCL: refused because it exists.
      expect(await statusOf((cb) => sftp.open(objectPath, 'r+', (err) => cb(err)))).toBe(3);
      expect(await statusOf((cb) => sftp.open(manifestPath, 'w', (err) => cb(err)))).toBe(3);
      expect(await statusOf((cb) => sftp.open(manifestPath, 'wx', (err) => cb(err)))).toBeGreaterThan(0);
      // The pruned/ directory is the owner's alone.
      expect(await statusOf((cb) => sftp.open(path.join(targetDir, 'pruned', name), 'wx', (err) => cb(err)))).toBe(3);
    } finally {
      end();
    }
    // Through the target class too: putManifest never replaces, and the writer cannot prune.
    const target = openTarget(findTarget(server.deps.config, 'offsite'));
    try {
      await expect(target.putManifest(name, 'forged')).rejects.toThrow();
      await expect(target.retireManifest(name)).rejects.toThrow(SftpTargetError);
      await expect(target.removeObject(object)).rejects.toThrow(/permission denied/);
      await expect(pruneTarget(target, loadBackupSigningKey(server.deps.config).verifier, { policy: { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, orphanGraceMs: 0 })).rejects.toThrow(/permission denied/);
    } finally {
      await target.close();
    }
    expect(sha(file)).toBe(before);
    expect(sha(objectPath)).toBe(objectBefore);
    expect(manifestsIn('snapshots').map(seqOf)).toEqual([1, 2]);
  });

  it('a run that fails half way leaves only objects no manifest names: verify still passes, and the pruner removes them later', async () => {
    const before = new Set(objectsOnDisk());
    await addBlob(randomBytes(5000));
    let n = 0;
    await expect(
      createBackup(server.deps, {
        target: 'offsite',
        onObject: () => {
          if (++n === 1) throw new Error('disk full (simulated)');
        },
      }),
    ).rejects.toThrow(/disk full/);
    orphans = objectsOnDisk().filter((o) => !before.has(o));
    expect(orphans.length).toBeGreaterThan(0);
    expect(manifestsIn('snapshots').map(seqOf)).toEqual([1, 2]);
    const report = await runVerify(server.deps, { target: 'offsite' });
    expect(report.problems).toEqual([]);
  });

  it('refuses a host whose key is not the pinned one', async () => {
    const other = new SftpTarget('offsite', { ...cred(writer), hostKeyFingerprint: `SHA256:${createHash('sha256').update('another key').digest('base64').replace(/=+$/, '')}` });
    await expect(other.listManifests()).rejects.toThrow(/not the pinned/);
    await other.close();
  });

  it('prune (the owner\'s credential) decides on the SFTP server\'s timestamps: faked snapshot times do not make it delete real data', async () => {
    const realNow = Date.now();
    // Snapshots 1 and 2 exist (and the failed run's orphans); take 3 and age all three on the storage host by 3, 2 and 1 days,
    // as if they had been uploaded then (the target's own clock; the writer cannot do this).
    await addBlob(randomBytes(2000));
    await createBackup(server.deps, { target: 'offsite' });
    const real = manifestsIn('snapshots');
    expect(real.map(seqOf)).toEqual([1, 2, 3]);
    real.forEach((n, i) => {
      const t = (realNow - (3 - i) * DAY) / 1000;
      utimesSync(path.join(targetDir, 'snapshots', n), t, t);
    });
    for (const d of readdirSync(path.join(targetDir, 'objects'))) for (const o of readdirSync(path.join(targetDir, 'objects', d))) utimesSync(path.join(targetDir, 'objects', d, o), (realNow - 3 * DAY) / 1000, (realNow - 3 * DAY) / 1000);

    // A compromised server (it holds the writer's key and the signing key) now uploads five
    // snapshots whose signed createdAt claims one per day over the last five days.
    for (let i = 4; i >= 0; i--) {
      server.clock.advance((realNow - i * DAY - server.clock.now().getTime()) / 1000);
      await addBlob(randomBytes(500 + i));
      await createBackup(server.deps, { target: 'offsite' });
    }
    const all = manifestsIn('snapshots');
    expect(all.map(seqOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const verifier = loadBackupSigningKey(server.deps.config).verifier;
    const policy = { keepLast: 2, keepDaily: 4, keepWeekly: 0, keepMonthly: 0 };
    // What a prune trusting createdAt would do: keep the five fakes' days and drop 1-3.
    const byCreatedAt = planRetention(
      all.map((name) => {
        const body = openManifest(readFileSync(path.join(targetDir, 'snapshots', name), 'utf8'), verifier).body;
        return { name, seq: body.seq, mtimeMs: Date.parse(body.createdAt), verified: true };
      }),
      policy,
    );
    expect(byCreatedAt.remove.map((r) => r.seq)).toEqual(expect.arrayContaining([1, 2, 3]));

    const owner = new SftpTarget('offsite', cred(pruner));
    try {
      const result = await pruneTarget(owner, verifier, { policy, orphanGraceMs: 0, now: new Date(realNow + 60_000) });
      expect(result.plan.remove.map((r) => r.seq)).toEqual([4, 5, 6]);
      expect(result.plan.keep.map((k) => k.seq)).toEqual([1, 2, 3, 7, 8]);
      expect(result.objectsRemoved).toBeGreaterThan(0);
    } finally {
      await owner.close();
    }
    expect(manifestsIn('snapshots').map(seqOf)).toEqual([1, 2, 3, 7, 8]);
    expect(manifestsIn('pruned').map(seqOf)).toEqual([4, 5, 6]);
    // The failed run's orphans are gone (older than the grace period, named by no manifest).
    expect(objectsOnDisk().filter((o) => orphans.includes(o))).toEqual([]);

    // The server's own verify still accepts the chain (4-6 are pruned, not deleted) and every kept object is there.
    const report = await runVerify(server.deps, { target: 'offsite' });
    expect(report.problems).toEqual([]);
    expect(report.snapshots).toBe(5);
    // And the oldest real snapshot still restores, decrypted with the operations identity.
    const target = openTarget(findTarget(server.deps.config, 'offsite'));
    const toDir = path.join(base, 'restored-oldest');
    try {
      const restored = await restoreSnapshot({ target, verifier, snapshot: '1', identities: [ops.identity], toDir, ...(server.databaseUrl && { databaseUrl: await scratchDb() }) });
      const checks = await checkRestored(restored.manifest, { dir: toDir, ...(server.databaseUrl && { databaseUrl: lastScratch! }) });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      await target.close();
      await dropScratch();
    }
    // The next backup still chains on (its predecessor, 8, was kept).
    const next = await createBackup(server.deps, { target: 'offsite' });
    expect(next.seq).toBe(9);
  });

  it('a scheduled server backs up to the SFTP target and verifies it', async () => {
    const dir = path.join(base, 'target-scheduled');
    mkdirSync(dir);
    chownSync(dir, Number(sh('id', ['-u', pruner]).trim()), Number(sh('id', ['-g', pruner]).trim()));
    chmodSync(dir, 0o2750);
    const owner = new SftpTarget('offsite', { ...cred(pruner), path: dir });
    await owner.prepareLayout();
    await owner.close();
    const scheduled = await startTestServer({
      backupRecipients: [ops.recipient, escrow.recipient],
      backupSchedule: '* * * * * *',
      backupTargets: [{ name: 'offsite', type: 'sftp', host: '127.0.0.1', port, username: writer, privateKeyFile: path.join(base, `${writer}.key`), hostKeyFingerprint, path: dir, offsite: true }],
    });
    try {
      let verified;
      for (let i = 0; i < 300 && !verified; i++) {
        verified = await scheduled.deps.db.selectFrom('backup_run').select('id').where('kind', '=', 'verify').where('target', '=', 'offsite').where('outcome', '=', 'success').executeTakeFirst();
        if (!verified) await new Promise((r) => setTimeout(r, 100));
      }
      expect(verified).toBeDefined();
      expect(readdirSync(path.join(dir, 'snapshots')).length).toBeGreaterThan(0);
    } finally {
      await scheduled.stop();
    }
  });
});

// PostgreSQL snapshots restore into a fresh database.
let lastScratch: string | null = null;
let dropScratch: () => Promise<void> = async () => {};
async function scratchDb(): Promise<string> {
  const pg = (await import('pg')).default;
  const name = `consilium_sftp_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(testPgUrl!);
  url.pathname = `/${name}`;
  lastScratch = url.toString();
  dropScratch = async () => {
    const c = new pg.Client({ connectionString: testPgUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
    lastScratch = null;
    dropScratch = async () => {};
  };
  return lastScratch;
}
