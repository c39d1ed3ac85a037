import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path/posix';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import { MANIFEST_NAME, OBJECT_NAME, type BackupTarget, type ObjectWriter, type TimedName } from './target.js';

/** How to reach an SFTP target: one account and its key. The writer and the pruner each have their own. */
export interface SftpCredential {
  host: string;
  port: number;
  username: string;
  /** OpenSSH private key file (unencrypted, or give `passphrase`). */
  privateKeyFile: string;
  passphrase?: string;
  /**
   * The server's host key, pinned: `SHA256:<base64>` as `ssh-keygen -lf` prints it. A different key
   * is refused before authentication, so a man in the middle gets neither the data nor the key.
   */
  hostKeyFingerprint: string;
  /** The target directory on the SFTP host. */
  path: string;
}

/** SSH status codes from draft-ietf-secsh-filexfer-02 §7 that we act on. */
const SSH_FX_NO_SUCH_FILE = 2;
const SSH_FX_PERMISSION_DENIED = 3;

export class SftpTargetError extends Error {}

const fingerprintOf = (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

const code = (err: unknown) => (err as { code?: unknown } | null)?.code;
const isMissing = (err: unknown) => code(err) === SSH_FX_NO_SUCH_FILE;

/** Opens an SSH connection with the host key pinned, and its SFTP channel. */
async function connect(cred: SftpCredential): Promise<{ client: Client; sftp: SFTPWrapper }> {
  // Loaded on first use: `consilium backup` to a local target does not load the SSH stack.
  const ssh2 = await import('ssh2');
  const client = new ssh2.Client();
  let seen: string | null = null;
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    client.on('error', (err) => {
      reject(
        seen !== null && seen !== cred.hostKeyFingerprint
          ? new SftpTargetError(`SFTP host ${cred.host}:${cred.port} presented host key ${seen}, not the pinned ${cred.hostKeyFingerprint}: refusing to connect`)
          : new SftpTargetError(`SFTP ${cred.username}@${cred.host}:${cred.port}: ${err.message}`),
      );
    });
    client.on('ready', () => client.sftp((err, s) => (err ? reject(new SftpTargetError(`SFTP subsystem refused: ${err.message}`)) : resolve(s))));
    client.connect({
      host: cred.host,
      port: cred.port,
      username: cred.username,
      privateKey: readFileSync(cred.privateKeyFile),
      ...(cred.passphrase && { passphrase: cred.passphrase }),
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        return seen === cred.hostKeyFingerprint;
      },
      readyTimeout: 20_000,
      keepaliveInterval: 15_000,
    });
  });
  client.on('error', () => {
    /* later errors surface on the pending SFTP call */
  });
  return { client, sftp };
}

const run = (fn: (cb: (err?: Error | null) => void) => void): Promise<void> => new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

const call = <T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

/** Writes in flight per object: SFTP is request/response, so pipelining hides the round trip. */
const WRITES_IN_FLIGHT = 8;

/**
 * A target on an SFTP server (OpenSSH), same layout as LocalTarget. It does not need rename,
 * remove or setstat, so the writer's account can be denied them (docs/operations/backups.md:
 * `internal-sftp -P remove,rmdir,rename,posix-rename,setstat,fsetstat,... -u 0222`): each object
 * and manifest is created with O_EXCL straight at its final name, so an existing file is never
 * replaced, and the 0222 umask leaves it read-only for good. A writer killed half way leaves at
 * most a partial object that no manifest names (the manifest is written last); the pruner removes
 * such orphans once they are older than its grace period.
 *
 * Opened with the pruner's credential (the account that owns the directory), the same class also
 * lists the server's own timestamps and removes what retention lets go (retention.ts).
 */
export class SftpTarget implements BackupTarget {
  private conn: Promise<{ client: Client; sftp: SFTPWrapper }> | null = null;

  constructor(
    readonly name: string,
    readonly cred: SftpCredential,
  ) {}

  get location(): string {
    return `sftp://${this.cred.username}@${this.cred.host}:${this.cred.port}${this.cred.path}`;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.conn ??= connect(this.cred);
    return this.conn.then((c) => c.sftp);
  }

  private p(...parts: string[]) {
    return path.join(this.cred.path, ...parts);
  }

  private objectPath(object: string) {
    if (!OBJECT_NAME.test(object)) throw new Error(`invalid object name ${object}`);
    return this.p('objects', object.slice(0, 2), object);
  }

  private denied(err: unknown, what: string): Error {
    if (code(err) === SSH_FX_PERMISSION_DENIED) return new SftpTargetError(`${this.location}: permission denied ${what}`);
    return err instanceof Error ? err : new Error(String(err));
  }

  // Each object is fsynced on the SFTP host at commit (fsync@openssh.com), deferSync or not.
  async syncObjects(): Promise<void> {}

  async createObject(object: string): Promise<ObjectWriter> {
    const sftp = await this.sftp();
    const file = this.objectPath(object);
    let handle: Buffer;
    try {
      handle = await call<Buffer>((cb) => sftp.open(file, 'wx', { mode: 0o444 }, cb));
    } catch (err) {
      if (!isMissing(err)) throw this.denied(err, `creating ${file}`);
      // objects/<xx>/ not made yet. The owner's `prune --init` makes all 256; try, for targets without it.
      await run((cb) => sftp.mkdir(path.dirname(file), cb)).catch(() => {});
      handle = await call<Buffer>((cb) => sftp.open(file, 'wx', { mode: 0o444 }, cb)).catch((e: unknown) => {
        throw this.denied(e, `creating ${file} (has the owner run \`consilium backup prune --init\`?)`);
      });
    }
    let position = 0;
    const inFlight = new Set<Promise<void>>();
    let failed: unknown = null;
    const closeHandle = () => run((cb) => sftp.close(handle, cb));
    return {
      write: async (data) => {
        if (failed) throw failed;
        const at = position;
        position += data.length;
        const p = run((cb) => sftp.write(handle, data, 0, data.length, at, cb)).then(
          () => undefined,
          (err: unknown) => {
            failed ??= this.denied(err, `writing ${file}`);
          },
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
      },
      commit: async () => {
        await Promise.all(inFlight);
        if (failed) throw failed;
        // fsync@openssh.com: the data is on the SFTP host's disk before the manifest names it.
        await call((cb) => sftp.ext_openssh_fsync(handle, cb)).catch(() => {});
        await closeHandle();
      },
      abort: async () => {
        await Promise.allSettled(inFlight);
        await closeHandle().catch(() => {});
        // A writer may not remove anything: the partial object stays until the pruner's grace period ends.
      },
    };
  }

  async objectSize(object: string): Promise<number | null> {
    const sftp = await this.sftp();
    try {
      return (await call<Stats>((cb) => sftp.stat(this.objectPath(object), cb))).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async *readObject(object: string, range?: { start: number; end: number }): AsyncIterable<Buffer> {
    const sftp = await this.sftp();
    const stream = sftp.createReadStream(this.objectPath(object), { highWaterMark: 256 * 1024, ...range });
    for await (const chunk of stream) yield chunk as Buffer;
  }

  private async list(dir: string): Promise<{ filename: string; attrs: Stats }[]> {
    const sftp = await this.sftp();
    try {
      return await call((cb) => sftp.readdir(this.p(dir), cb));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  }

  async listObjects(): Promise<string[]> {
    return (await this.listObjectTimes()).map((o) => o.name);
  }

  async listObjectTimes(): Promise<TimedName[]> {
    const out: TimedName[] = [];
    for (const d of await this.list('objects')) {
      if (!/^[0-9a-f]{2}$/.test(d.filename)) continue;
      for (const f of await this.list(`objects/${d.filename}`)) if (OBJECT_NAME.test(f.filename)) out.push({ name: f.filename, mtimeMs: f.attrs.mtime * 1000 });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async listManifests(): Promise<string[]> {
    return (await this.listManifestTimes()).map((m) => m.name);
  }

  async listManifestTimes(dir: 'snapshots' | 'pruned' = 'snapshots'): Promise<TimedName[]> {
    return (await this.list(dir))
      .filter((f) => MANIFEST_NAME.test(f.filename))
      .map((f) => ({ name: f.filename, mtimeMs: f.attrs.mtime * 1000 }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async listPrunedManifests(): Promise<string[]> {
    return (await this.listManifestTimes('pruned')).map((m) => m.name);
  }

  async readManifest(name: string, dir: 'snapshots' | 'pruned' = 'snapshots'): Promise<string> {
    return (await this.readManifestBytes(name, dir)).toString('utf8');
  }

  async readManifestBytes(name: string, dir: 'snapshots' | 'pruned' = 'snapshots'): Promise<Buffer> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    const sftp = await this.sftp();
    return call<Buffer>((cb) => sftp.readFile(this.p(dir, name), cb));
  }

  async putManifest(name: string, note: string): Promise<void> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    const sftp = await this.sftp();
    const file = this.p('snapshots', name);
    const data = Buffer.from(note, 'utf8');
    const handle = await call<Buffer>((cb) => sftp.open(file, 'wx', { mode: 0o444 }, cb)).catch((err: unknown) => {
      throw this.denied(err, `creating ${file}`);
    });
    try {
      await run((cb) => sftp.write(handle, data, 0, data.length, 0, cb));
      await call((cb) => sftp.ext_openssh_fsync(handle, cb)).catch(() => {});
    } finally {
      await run((cb) => sftp.close(handle, cb));
    }
  }

  async clearTemporary(): Promise<void> {
    /* nothing goes through tmp/ on SFTP: objects are created at their final name */
  }

  // The pruner's operations (the directory's owner; the writer's account is refused these).

  /** Moves a manifest to pruned/ (kept so the chain of the remaining snapshots still verifies). */
  async retireManifest(name: string): Promise<void> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    const sftp = await this.sftp();
    await run((cb) => sftp.rename(this.p('snapshots', name), this.p('pruned', name), cb)).catch((err: unknown) => {
      throw this.denied(err, `moving ${name} to pruned/`);
    });
  }

  async removeObject(object: string): Promise<void> {
    const sftp = await this.sftp();
    await run((cb) => sftp.unlink(this.objectPath(object), cb)).catch((err: unknown) => {
      throw this.denied(err, `removing object ${object}`);
    });
  }

  /**
   * Makes the layout, as the owner: snapshots/ and objects/<00..ff>/ group-writable (setgid, so
   * the writer's files belong to the owner's group), pruned/ writable by the owner only.
   */
  async prepareLayout(): Promise<void> {
    const sftp = await this.sftp();
    const make = async (dir: string, mode: number) => {
      await run((cb) => sftp.mkdir(dir, cb)).catch((err: unknown) => {
        if (code(err) !== 4 /* SSH_FX_FAILURE: exists */ && !isMissing(err)) throw err;
      });
      await run((cb) => sftp.chmod(dir, mode, cb));
    };
    await make(this.p('snapshots'), 0o2770);
    await make(this.p('pruned'), 0o2750);
    await make(this.p('objects'), 0o2750);
    for (let i = 0; i < 256; i++) await make(this.p('objects', i.toString(16).padStart(2, '0')), 0o2770);
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (!c) return;
    const { client } = await c.catch(() => ({ client: null }));
    client?.end();
  }
}
