import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import type { Config } from '../config.js';
import { loadPg, sqlitePath } from '../db/database.js';
import { inParallel } from './target.js';

/**
 * Consistent copies of the database, read from sources the server keeps writing to.
 * - SQLite: the online backup API (sqlite3_backup_*, https://sqlite.org/backup.html) copies a
 *   transactionally consistent image while writers continue; a raw copy of the file and its WAL
 *   could catch them mid-commit.
 * - PostgreSQL: pg_dump in its custom format inside a REPEATABLE READ snapshot exported with
 *   pg_export_snapshot(), and the row counts read in that same snapshot, so the manifest's counts
 *   describe exactly what the dump holds.
 */

export async function sqliteSnapshot(config: Pick<Config, 'dataDir'>, dest: string): Promise<Record<string, number>> {
  return startSqliteSnapshot(config, dest).done;
}

export interface SqliteSnapshotRun {
  /**
   * Resolves once the source's read transaction is open: the copy will hold the database exactly
   * as it was then, whatever is written after. Rejects if the copy fails before that.
   */
  started: Promise<void>;
  /**
   * Resolves once `dest` is complete and will not change again (its row counts are still being
   * read): it can be read from then on. Rejects as `done` does.
   */
  copied: Promise<void>;
  /** Resolves with the copy's row counts once they are read and `dest` is closed. */
  done: Promise<Record<string, number>>;
  /** Stops the copy (on an error elsewhere); resolves once the thread has stopped writing. */
  cancel(): Promise<void>;
  /** Once done: milliseconds the thread spent in the backup API and in counting rows, and the writeback syncs made beside the copy. */
  readonly timings: Record<string, number>;
}

/**
 * The copy runs on a worker thread (better-sqlite3 on its own connection there), so the caller's
 * thread can do other work meanwhile (createBackup checks the chain and stores new blobs while
 * the database is copied). The worker opens a read transaction on the source first and holds it
 * through the backup: in WAL mode that fixes the snapshot at that moment (`started`), the server's
 * writers carry on into the WAL, and the backup API copies that snapshot's pages (from the file
 * and the WAL through SQLite's pager, never a raw copy of the files) without restarting.
 * `gate` (tests): the worker waits after `started` until gate[0] is non-zero.
 */
export function startSqliteSnapshot(config: Pick<Config, 'dataDir'>, dest: string, options: { gate?: Int32Array; inThisThread?: boolean } = {}): SqliteSnapshotRun {
  let resolveStarted!: () => void;
  let rejectStarted!: (err: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  let resolveCopied!: () => void;
  let rejectCopied!: (err: Error) => void;
  const copied = new Promise<void>((resolve, reject) => {
    resolveCopied = resolve;
    rejectCopied = reject;
  });
  // What the copy says, from the worker or from this thread: the same messages either way.
  let onMessage!: (m: CopyMessage) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<{ tables: Record<string, number>; timings: Record<string, number> }>((resolve, reject) => {
    fail = (err: Error) => {
      rejectStarted(err);
      rejectCopied(err);
      reject(err);
    };
    onMessage = (m) => {
      if (m.started) resolveStarted();
      else if (m.copied) resolveCopied();
      else if (m.tables) resolve({ tables: m.tables, timings: m.timings ?? {} });
      else fail(Object.assign(new Error(`copying the SQLite database failed: ${m.error}`), m.code ? { code: m.code } : {}));
    };
  });
  started.catch(() => {});
  copied.catch(() => {});
  done.catch(() => {});
  const source = sqlitePath(config);
  let cancel: () => Promise<void>;
  let worker: Worker | null = null;
  try {
    if (!options.inThisThread) {
      worker = new Worker(SNAPSHOT_WORKER, {
        eval: true,
        workerData: { module: requireHere.resolve('better-sqlite3'), source, dest, gate: options.gate },
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
      });
    }
  } catch {
    worker = null;
  }
  // The copy's writeback, started while the worker writes it (worker threads only: on this
  // thread the copy leaves no turn to run it).
  let follower: WritebackFollower | null = null;
  if (worker) {
    const w = worker;
    w.on('message', (m: CopyMessage) => {
      if (m.started) follower = followWriteback(dest);
      // SQLite has synced the finished copy: nothing left to follow.
      if (m.copied) void follower?.stop();
      onMessage(m);
    });
    w.once('error', fail);
    w.once('exit', (code) => fail(new Error(`the SQLite copy thread exited (${code}) before it finished`)));
    cancel = async () => {
      await w.terminate();
    };
  } else {
    // No worker thread to be had (or asked not to): the same copy on this thread (no gate: this
    // thread cannot wait on it).
    const copy = new Function(`return ${SNAPSHOT_COPY}`)() as (database: unknown, data: { source: string; dest: string }, post: (m: CopyMessage) => void) => Promise<void>;
    const running = copy(requireHere('better-sqlite3'), { source, dest }, onMessage).catch((err: { message?: string; code?: string }) => onMessage({ error: String(err?.message ?? err), code: err?.code }));
    cancel = async () => {
      await running;
    };
  }
  const timings: Record<string, number> = {};
  const stopFollower = async () => {
    if (follower) timings.writebackSyncs = await follower.stop();
  };
  return {
    started,
    copied,
    done: done.then(
      async (r) => {
        await stopFollower();
        Object.assign(timings, r.timings);
        return r.tables;
      },
      async (err: unknown) => {
        await stopFollower();
        throw err;
      },
    ),
    timings,
    cancel,
  };
}

interface WritebackFollower {
  /** Stops following and closes the file; resolves with the number of syncs it made. */
  stop(): Promise<number>;
}

/** Bytes the copy may grow by before the follower starts their writeback. */
const WRITEBACK_STEP = 4 * 1024 * 1024;

/**
 * Has the kernel write the copy back while SQLite is still writing it. SQLite fsyncs the whole
 * copy when the backup ends (better-sqlite3 opens the destination itself, with SQLite's default
 * synchronous=FULL, and offers no way to change that), and an fsync of 0.8 GB written at once
 * waited 0.75 s on our test machine with a cold cache, seconds after other heavy I/O. Each time
 * the file has grown by WRITEBACK_STEP, an fdatasync on our own descriptor writes back what is
 * there, so the disk writes go on beside the copy and SQLite's own fsync finds little left: a
 * cold 0.8 GiB copy took 1.1-1.5 s instead of 1.7-2.3 s. Best effort: any error stops following
 * and leaves the writeback to SQLite's fsync, as without it.
 */
function followWriteback(file: string): WritebackFollower {
  let stopped = false;
  let syncs = 0;
  const following = (async () => {
    const fh = await open(file, 'r');
    try {
      let synced = 0;
      while (!stopped) {
        const { size } = await fh.stat();
        if (size - synced >= WRITEBACK_STEP) {
          synced = size;
          await fh.datasync();
          syncs++;
        } else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await fh.close();
    }
  })().catch(() => {});
  return {
    async stop() {
      stopped = true;
      await following;
      return syncs;
    },
  };
}

interface CopyMessage {
  started?: true;
  copied?: true;
  tables?: Record<string, number>;
  timings?: Record<string, number>;
  error?: string;
  code?: string;
}

const requireHere = createRequire(import.meta.url);

/**
 * The copy, as plain JavaScript source (an async function of better-sqlite3's Database class, the
 * source and destination files and a `post` for its messages): the worker thread evaluates it, so
 * it runs from the sources and the build alike, and so does this thread when no worker can be had.
 */
const SNAPSHOT_COPY = `async (Database, { source: sourceFile, dest, gate }, post) => {
  const timings = {};
  const rowCounts = (db) => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    const counts = {};
    for (const { name } of tables) counts[name] = db.prepare('SELECT count(*) AS n FROM "' + name.replace(/"/g, '""') + '"').get().n;
    return counts;
  };
  // The destination is made first with 64 KiB pages (SQLite's largest): the backup API then
  // copies the source's pages into it byte for byte, several to a destination page (backup.c
  // handles a source page size smaller than the destination's, the pending-byte page included),
  // so the copy is written in 64 KiB writes instead of one write per 4 KiB page. The finished
  // file is the source's image (its own page size in its header); only the header's change
  // counters differ from a copy into a new file.
  const pre = new Database(dest);
  try {
    pre.pragma('page_size = 65536');
    // Any write fixes the page size; this one changes nothing the backup does not overwrite.
    pre.pragma('user_version = 1');
  } finally {
    pre.close();
  }
  const source = new Database(sourceFile, { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    // The snapshot: a read transaction, held until the copy is done.
    source.exec('BEGIN');
    source.prepare('SELECT count(*) FROM sqlite_master').get();
    post({ started: true });
    if (gate) Atomics.wait(gate, 0, 0);
    // One step for the whole file (better-sqlite3's default, 100 pages a step, is slow on big files).
    const t0 = performance.now();
    await source.backup(dest, { progress: () => 1 << 20 });
    timings.backupMs = Math.round(performance.now() - t0);
    source.exec('COMMIT');
  } finally {
    source.close();
  }
  const copy = new Database(dest);
  try {
    // A self-contained file (no -wal beside it); the server turns WAL back on when it opens it.
    // A temporary file: nothing to gain from syncing this change of its header.
    const t1 = performance.now();
    copy.pragma('synchronous = OFF');
    copy.pragma('journal_mode = DELETE');
    // The file is final: it can be packed while its rows are counted (reads only).
    post({ copied: true });
    const tables = rowCounts(copy);
    timings.countsMs = Math.round(performance.now() - t1);
    post({ tables, timings });
  } finally {
    copy.close();
  }
}`;

// Plain CommonJS, evaluated, so it runs from the sources and the build alike.
const SNAPSHOT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(${SNAPSHOT_COPY})(require(workerData.module), workerData, (m) => parentPort.postMessage(m))
  .catch((err) => parentPort.postMessage({ error: String((err && err.message) || err), code: err && err.code }));
`;

export function sqliteRowCounts(db: SqliteDatabase.Database): Record<string, number> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = (db.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number }).n;
  return counts;
}

/** libpq environment for a postgres:// URL, so the password never appears on a command line. */
export function libpqEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const u = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: decodeURIComponent(u.hostname), PGPORT: u.port || '5432', PGDATABASE: decodeURIComponent(u.pathname.slice(1)) };
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

export async function postgresRowCounts(client: pg.ClientBase): Promise<Record<string, number>> {
  const tables = await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename");
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`);
    counts[name] = Number(r.rows[0]!.n);
  }
  return counts;
}

/**
 * Runs pg_dump (custom format) in an exported snapshot and hands its stdout to `consume`, which
 * must read it to the end. Resolves with the row counts of that snapshot once pg_dump exits 0.
 */
export async function postgresDump<T>(databaseUrl: string, consume: (dump: Readable) => Promise<T>): Promise<{ result: T; tables: Record<string, number> }> {
  const client = new (await loadPg()).Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    const tables = await postgresRowCounts(client);
    const child = spawn('pg_dump', ['--format=custom', '--compress=0', `--snapshot=${snapshot}`, '--no-sync'], {
      env: libpqEnv(databaseUrl),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
    let result: T;
    try {
      result = await consume(child.stdout);
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => 1);
      throw err;
    }
    const code = await exited;
    if (code !== 0) throw new Error(`pg_dump failed (exit ${code}): ${stderr.trim()}`);
    await client.query('COMMIT');
    return { result, tables };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface BlobFile {
  /** Path relative to the blob directory, with / separators. */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

/**
 * Directory reads and stats in flight while listing the blobs, and while a backup checks that the
 * objects it reuses are still stored: from a cold cache each is a disk read, and one at a time
 * they took most of a 1% incremental's first two seconds (1,000 blobs in 256 directories).
 */
export const LIST_WIDTH = 16;

/** Every regular file under the blob directory (content-addressed ciphertext), sorted. */
export async function listBlobs(blobDir: string): Promise<BlobFile[]> {
  // Directories a level at a time, each level's read LIST_WIDTH at once; then the files' stats.
  const found: { rel: string; abs: string }[] = [];
  let level = [{ dir: blobDir, rel: '' }];
  while (level.length > 0) {
    const below: typeof level = [];
    await inParallel(level, LIST_WIDTH, async ({ dir, rel }) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const abs = path.join(dir, e.name);
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) below.push({ dir: abs, rel: r });
        else if (e.isFile() && !e.name.endsWith('.part') && !e.name.startsWith('.')) found.push({ rel: r, abs });
      }
    });
    level = below;
  }
  const out: BlobFile[] = [];
  await inParallel(found, LIST_WIDTH, async (f) => {
    const s = await stat(f.abs);
    out.push({ ...f, size: s.size, mtimeMs: Math.floor(s.mtimeMs) });
  });
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export const readFileStream = (file: string): Readable => createReadStream(file, { highWaterMark: 1024 * 1024 });

const SECRET_KEY = /password|secret|signingkey|privatekey|token/i;

/**
 * The effective configuration without secrets: keys, passwords and the database URL's password
 * are replaced by "[redacted]". Restoring needs the structure, never these values.
 */
export function configWithoutSecrets(config: Config): Record<string, unknown> {
  const scrub = (value: unknown, key: string): unknown => {
    if (SECRET_KEY.test(key) && value !== undefined && value !== '') return '[redacted]';
    if (key === 'databaseUrl' && typeof value === 'string') {
      try {
        const u = new URL(value);
        if (u.password) u.password = 'redacted';
        return u.toString();
      } catch {
        return '[redacted]';
      }
    }
    if (Array.isArray(value)) return value.map((v) => scrub(v, ''));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, k)]));
    return value;
  };
  return scrub(config, '') as Record<string, unknown>;
}
