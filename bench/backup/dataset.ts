/**
 * The benchmark's synthetic data (bench/backup/run.ts, incremental.ts): messages in a Consilium
 * SQLite database and random blob files, sized as the issue asks. Synthetic rows stand in for real
 * conversations: the benches measure bytes, not referential rules.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sqlitePath } from '../../packages/server/src/db/database.js';

export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

/**
 * The same starting state for a timed operation: everything written back (`sync`) and, as root,
 * the page cache dropped. Returns whether it could be dropped.
 */
export function settle(): boolean {
  execFileSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Every file under `dir` (none if it does not exist). */
export function files(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Removes every file under `dir` that is not in `keep` (a repository put back to an earlier state:
 * both tools only add files when they back up). Returns how many it removed.
 */
export function resetTo(dir: string, keep: ReadonlySet<string>): number {
  let removed = 0;
  for (const f of files(dir)) if (!keep.has(f)) (rmSync(f), removed++);
  return removed;
}

/** mulberry32: the same sizes every run. */
export function seeded(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Adds `count` messages of 256 random bytes (base64) to the data directory's database, seq from `fromSeq`. */
export function addMessages(dataDir: string, count: number, fromSeq: number) {
  const db = new SqliteDatabase(sqlitePath({ dataDir }));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = OFF');
  const insert = db.prepare(
    'INSERT INTO mls_message (conversation_id, seq, client_message_id, sender_device_id, sender_account_id, kind, epoch, body, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const conversations = Array.from({ length: 100 }, () => randomUUID());
  const device = randomUUID();
  const account = randomUUID();
  const batch = db.transaction((from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const body = randomBytes(256).toString('base64');
      insert.run(conversations[i % 100], fromSeq + i, randomUUID(), device, account, 'application', 1, body, 256, new Date(1_700_000_000_000 + i * 1000).toISOString());
    }
  });
  for (let i = 0; i < count; i += 10_000) batch(i, Math.min(10_000, count - i));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Adds blob files of 64 KiB to ~4 MiB (sizes from `seed`) until `bytes` are written; returns the bytes written. */
export function addBlobs(dataDir: string, bytes: number, seed: number): number {
  const rand = seeded(seed);
  let written = 0;
  while (written < bytes) {
    const size = Math.min(bytes - written, 64 * 1024 + Math.floor(rand() * 4 * 1024 * 1024));
    const data = randomBytes(size);
    const id = createHash('sha256').update(data).digest('hex');
    mkdirSync(path.join(dataDir, 'blobs', id.slice(0, 2)), { recursive: true });
    writeFileSync(path.join(dataDir, 'blobs', id.slice(0, 2), id), data);
    written += size;
  }
  return written;
}
