import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { once } from 'node:events';

/**
 * Where snapshots are kept. Layout (the same on every target):
 *   snapshots/<seq, 10 digits>-<snapshotId>.manifest   signed manifests, never rewritten
 *   objects/<first 2 hex>/<object>                      age files, never rewritten
 *   pruned/<seq>-<snapshotId>.manifest                  manifests retention let go (their chain links stay checkable)
 *   tmp/                                                writes in progress (local targets only)
 * Everything is written to tmp/ first and linked into place only when complete, without
 * replacing an existing name: a writer killed half way leaves at most a stray file in tmp/ or an
 * object no manifest names, never a manifest whose data is missing.
 */
export interface BackupTarget {
  readonly name: string;
  readonly location: string;
  /**
   * Starts writing an object; nothing is visible under `name` until commit(). With `deferSync`
   * commit() does not wait for the disk: call syncObjects() on every such object before a
   * manifest names it (a local target then fsyncs all files, then each directory once).
   */
  createObject(object: string, options?: { deferSync?: boolean }): Promise<ObjectWriter>;
  /** Makes objects committed with `deferSync` durable. */
  syncObjects(objects: readonly string[]): Promise<void>;
  /** Size of an object, or null if it is not there. */
  objectSize(object: string): Promise<number | null>;
  /** An object's bytes, or only bytes start..end (inclusive) of it. */
  readObject(object: string, range?: { start: number; end: number }): AsyncIterable<Buffer>;
  /**
   * Optional: `length` bytes of an object from `start` in one buffer (fewer if the object ends
   * first), the start of `into` if given (at least `length` bytes). Restore reads its pieces
   * this way where a target has it.
   */
  readRange?(object: string, start: number, length: number, into?: Buffer): Promise<Buffer>;
  listObjects(): Promise<string[]>;
  /** Manifest file names, sorted. */
  listManifests(): Promise<string[]>;
  /** Names in pruned/, sorted: manifests of snapshots whose data retention removed. */
  listPrunedManifests(): Promise<string[]>;
  readManifest(name: string, dir?: 'snapshots' | 'pruned'): Promise<string>;
  /** The manifest file's bytes, undecoded (hashing a 4 MB string cost ~50 ms, its bytes ~3 ms). */
  readManifestBytes(name: string, dir?: 'snapshots' | 'pruned'): Promise<Buffer>;
  /** Stores a manifest; refuses to replace an existing one. */
  putManifest(name: string, note: string): Promise<void>;
  /** Removes stray temporary files older than a run (called at the start of each backup). */
  clearTemporary(): Promise<void>;
  /** Manifests and objects with the storage's own modification time (never a time a client wrote into a file). */
  listManifestTimes(): Promise<TimedName[]>;
  listObjectTimes(): Promise<TimedName[]>;
  /** Pruning (retention.ts), with the pruner's credential: moves a manifest to pruned/, removes an object. */
  retireManifest(name: string): Promise<void>;
  removeObject(object: string): Promise<void>;
  /** Ends the connection, if the target has one. */
  close(): Promise<void>;
}

export interface TimedName {
  name: string;
  mtimeMs: number;
}

export interface ObjectWriter {
  write(data: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export const manifestName = (seq: number, snapshotId: string) => `${String(seq).padStart(10, '0')}-${snapshotId}.manifest`;
export const MANIFEST_NAME = /^(\d{10})-([0-9a-f]{16})\.manifest$/;
export const OBJECT_NAME = /^[0-9a-f]{32}$/;

function checkObject(object: string): void {
  if (!OBJECT_NAME.test(object)) throw new Error(`invalid object name ${object}`);
}

/** A directory on a local or mounted file system (default ./data/backups; mount it from elsewhere). */
export class LocalTarget implements BackupTarget {
  constructor(
    readonly name: string,
    readonly location: string,
  ) {}

  private objectPath(object: string) {
    checkObject(object);
    return path.join(this.location, 'objects', object.slice(0, 2), object);
  }

  private async tmpFile(): Promise<string> {
    const dir = path.join(this.location, 'tmp');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, `${randomBytes(12).toString('hex')}.part`);
  }

  async createObject(object: string, options: { deferSync?: boolean } = {}): Promise<ObjectWriter> {
    const final = this.objectPath(object);
    const tmp = await this.tmpFile();
    // 4 MiB: with the default 16 KiB buffer every 64 KiB chunk waited for its own write.
    const out: WriteStream = createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 4 * 1024 * 1024 });
    await once(out, 'open');
    let failed: Error | null = null;
    out.on('error', (err) => (failed = err));
    return {
      write: async (data) => {
        if (failed) throw failed;
        if (!out.write(data)) await once(out, 'drain');
      },
      commit: async () => {
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        if (failed) throw failed;
        if (!options.deferSync) await fsyncPath(tmp);
        await mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
        // link() fails if the name exists: an object is never replaced.
        await link(tmp, final);
        await unlink(tmp);
        if (!options.deferSync) await fsyncPath(path.dirname(final));
      },
      abort: async () => {
        out.destroy();
        await rm(tmp, { force: true });
      },
    };
  }

  async objectSize(object: string): Promise<number | null> {
    try {
      return (await stat(this.objectPath(object))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  readObject(object: string, range?: { start: number; end: number }): AsyncIterable<Buffer> {
    return createReadStream(this.objectPath(object), { highWaterMark: 1024 * 1024, ...range });
  }

  async readRange(object: string, start: number, length: number, into?: Buffer): Promise<Buffer> {
    const fh = await open(this.objectPath(object), 'r');
    try {
      const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  async syncObjects(objects: readonly string[]): Promise<void> {
    // The files' data first (four at a time: libuv's thread pool), then each directory once, so
    // every name is durable too; a manifest is written only after this.
    const paths = objects.map((o) => this.objectPath(o));
    await inParallel(paths, 4, fsyncPath);
    await inParallel([...new Set(paths.map((p) => path.dirname(p)))], 4, fsyncPath);
  }

  async listObjects(): Promise<string[]> {
    const root = path.join(this.location, 'objects');
    const out: string[] = [];
    for (const dir of await readdirOrEmpty(root)) for (const f of await readdirOrEmpty(path.join(root, dir))) if (OBJECT_NAME.test(f)) out.push(f);
    return out.sort();
  }

  async listManifests(): Promise<string[]> {
    return (await readdirOrEmpty(path.join(this.location, 'snapshots'))).filter((f) => MANIFEST_NAME.test(f)).sort();
  }

  async listPrunedManifests(): Promise<string[]> {
    return (await readdirOrEmpty(path.join(this.location, 'pruned'))).filter((f) => MANIFEST_NAME.test(f)).sort();
  }

  async readManifest(name: string, dir: 'snapshots' | 'pruned' = 'snapshots'): Promise<string> {
    return (await this.readManifestBytes(name, dir)).toString('utf8');
  }

  async readManifestBytes(name: string, dir: 'snapshots' | 'pruned' = 'snapshots'): Promise<Buffer> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    return readFile(path.join(this.location, dir, name));
  }

  // The file system's own mtimes. On a local target the writer could change them (utimes): a
  // local directory is not immutable; use an SFTP target owned by another account for that.
  async listManifestTimes(): Promise<TimedName[]> {
    const dir = path.join(this.location, 'snapshots');
    return Promise.all((await this.listManifests()).map(async (name) => ({ name, mtimeMs: (await stat(path.join(dir, name))).mtimeMs })));
  }

  async listObjectTimes(): Promise<TimedName[]> {
    return Promise.all((await this.listObjects()).map(async (name) => ({ name, mtimeMs: (await stat(this.objectPath(name))).mtimeMs })));
  }

  async retireManifest(name: string): Promise<void> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    const dir = path.join(this.location, 'pruned');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(path.join(this.location, 'snapshots', name), path.join(dir, name));
  }

  async removeObject(object: string): Promise<void> {
    await unlink(this.objectPath(object));
  }

  async close(): Promise<void> {
    /* nothing held open */
  }

  async putManifest(name: string, note: string): Promise<void> {
    if (!MANIFEST_NAME.test(name)) throw new Error(`invalid manifest name ${name}`);
    const dir = path.join(this.location, 'snapshots');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = await this.tmpFile();
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(note, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(tmp, path.join(dir, name));
    await unlink(tmp);
    await fsyncPath(dir);
  }

  async clearTemporary(): Promise<void> {
    await rm(path.join(this.location, 'tmp'), { recursive: true, force: true });
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Runs `fn` on every item, at most `width` at once. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
