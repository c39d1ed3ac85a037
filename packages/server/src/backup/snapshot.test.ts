import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlitePath } from '../db/database.js';
import { listBlobs, sqliteSnapshot, startSqliteSnapshot } from './snapshot.js';

const dir = mkdtempSync(path.join(tmpdir(), 'consilium-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A live database in WAL mode under a new data directory: `schema`, then `rows` rows of random
 * bytes (`size(i)` each) in table a, in one transaction. Returns the data directory, the open
 * database and its insert statement.
 */
function liveDatabase(name: string, schema: string, rows: number, size: (i: number) => number, pragmas: string[] = []) {
  const dataDir = path.join(dir, name);
  mkdirSync(dataDir);
  const live = new SqliteDatabase(sqlitePath({ dataDir }));
  live.pragma('journal_mode = WAL');
  for (const p of pragmas) live.pragma(p);
  live.exec(schema);
  const insert = live.prepare('INSERT INTO a (body) VALUES (?)');
  live.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(randomBytes(size(i)));
  })();
  return { dataDir, live, insert };
}

describe('SQLite snapshot (online backup API into 64 KiB destination pages)', () => {
  it('is the source database byte for byte but for the header counters the backup API bumps', async () => {
    const { dataDir, live, insert } = liveDatabase('data', 'CREATE TABLE a (id INTEGER PRIMARY KEY, body BLOB); CREATE INDEX a_body ON a (body); CREATE TABLE b (x TEXT)', 3000, (i) => 1000 + (i % 700));
    live.prepare('INSERT INTO b (x) VALUES (?)').run('only row');
    // Rows still in the WAL (not checkpointed) must be in the copy too.
    live.pragma('wal_autocheckpoint = 0');
    live.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run(randomBytes(3000));
    })();
    expect(live.pragma('page_size', { simple: true })).toBe(4096);

    const copy = path.join(dir, 'copy.sqlite');
    const run = startSqliteSnapshot({ dataDir }, copy);
    await run.copied;
    // Final once `copied` resolves (the packing starts then): the rows are counted after, reading only.
    const atCopied = readFileSync(copy);
    const tables = await run.done;
    expect(tables).toEqual({ a: 3500, b: 1 });
    expect(readFileSync(copy).equals(atCopied)).toBe(true);
    // The same database copied the plain way (into a new file, one write per page).
    const plain = path.join(dir, 'plain.sqlite');
    await live.backup(plain);
    live.close();
    const plainDb = new SqliteDatabase(plain);
    plainDb.pragma('journal_mode = DELETE');
    plainDb.close();

    const ours = readFileSync(copy);
    const theirs = readFileSync(plain);
    expect(ours.length).toBe(theirs.length);
    expect(ours.length).toBeGreaterThan(10 * 65536);
    const differ: number[] = [];
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differ.push(i);
    // File change counter (24..27) and version-valid-for (92..95): counters, nothing else.
    expect(differ.every((i) => (i >= 24 && i < 28) || (i >= 92 && i < 96))).toBe(true);
    const db = new SqliteDatabase(copy, { readonly: true });
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(4096);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT x FROM b').get()).toEqual({ x: 'only row' });
    } finally {
      db.close();
    }
  });

  it('holds the database as it was when the copy started: rows committed after `started` are not in the copy', async () => {
    const { dataDir, live, insert } = liveDatabase('data-started', 'CREATE TABLE a (id INTEGER PRIMARY KEY, body BLOB)', 2000, () => 2000);
    const copy = path.join(dir, 'copy-started.sqlite');
    // The copy thread waits after opening its snapshot until the gate opens.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const run = startSqliteSnapshot({ dataDir }, copy, { gate });
    await run.started;
    live.transaction(() => {
      for (let i = 0; i < 300; i++) insert.run(randomBytes(2000));
    })();
    live.exec('DELETE FROM a WHERE id <= 10');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(await run.done).toEqual({ a: 2000 });
    live.close();
    const db = new SqliteDatabase(copy, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n, min(id) AS first FROM a').get()).toEqual({ n: 2000, first: 1 });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('an error on the copy thread reaches the caller', async () => {
    const run = startSqliteSnapshot({ dataDir: path.join(dir, 'no-such-data') }, path.join(dir, 'never.sqlite'));
    await expect(run.started).rejects.toThrow(/copying the SQLite database failed/);
    await expect(run.copied).rejects.toThrow(/copying the SQLite database failed/);
    await expect(run.done).rejects.toThrow(/copying the SQLite database failed/);
    const elsewhere = path.join(dir, 'data-missing-db');
    mkdirSync(elsewhere);
    await expect(sqliteSnapshot({ dataDir: elsewhere }, path.join(dir, 'never2.sqlite'))).rejects.toThrow(/copying the SQLite database failed/);
  });

  it('copies the same on this thread as on the copy thread (the fallback when no thread can be had)', async () => {
    const { dataDir, live } = liveDatabase('data-here', 'CREATE TABLE a (id INTEGER PRIMARY KEY, body BLOB); CREATE TABLE b (x TEXT)', 1500, () => 1500, ['wal_autocheckpoint = 0']);
    const inWorker = path.join(dir, 'copy-worker.sqlite');
    const here = path.join(dir, 'copy-here.sqlite');
    const w = startSqliteSnapshot({ dataDir }, inWorker);
    await w.started;
    const h = startSqliteSnapshot({ dataDir }, here, { inThisThread: true });
    await h.started;
    expect(await h.done).toEqual(await w.done);
    expect(await h.done).toEqual({ a: 1500, b: 0 });
    expect(h.timings.backupMs).toBeGreaterThanOrEqual(0);
    live.close();
    const a = readFileSync(inWorker);
    const b = readFileSync(here);
    expect(a.length).toBe(b.length);
    // The same image but for the header's change counters (bytes 24..27 and 92..95).
    const differ: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ.push(i);
    expect(differ.every((i) => (i >= 24 && i < 28) || (i >= 92 && i < 96))).toBe(true);
    await expect(startSqliteSnapshot({ dataDir: path.join(dir, 'no-such-data') }, path.join(dir, 'never3.sqlite'), { inThisThread: true }).done).rejects.toThrow(/copying the SQLite database failed/);
  });
});

describe('listBlobs', () => {
  it('lists every stored blob at any depth, sorted, with size and mtime, and skips uploads in progress and dotfiles', async () => {
    const blobDir = path.join(dir, 'blobs');
    const want: { rel: string; size: number }[] = [];
    // More files than LIST_WIDTH, in more directories than LIST_WIDTH, and a deeper level.
    for (let d = 0; d < 20; d++) {
      const sub = d.toString(16).padStart(2, '0');
      mkdirSync(path.join(blobDir, sub), { recursive: true });
      for (let f = 0; f < 3; f++) {
        const name = randomBytes(8).toString('hex');
        writeFileSync(path.join(blobDir, sub, name), randomBytes(d * 3 + f));
        want.push({ rel: `${sub}/${name}`, size: d * 3 + f });
      }
    }
    mkdirSync(path.join(blobDir, 'incoming', 'deep'), { recursive: true });
    writeFileSync(path.join(blobDir, 'incoming', 'deep', 'x'), 'abc');
    want.push({ rel: 'incoming/deep/x', size: 3 });
    writeFileSync(path.join(blobDir, '00', 'upload.part'), 'partial');
    writeFileSync(path.join(blobDir, '.lock'), '');
    const got = await listBlobs(blobDir);
    expect(got.map(({ rel, size }) => ({ rel, size }))).toEqual(want.sort((a, b) => (a.rel < b.rel ? -1 : 1)));
    for (const b of got) {
      expect(b.abs).toBe(path.join(blobDir, ...b.rel.split('/')));
      expect(b.mtimeMs).toBe(Math.floor(statSync(b.abs).mtimeMs));
    }
    expect(await listBlobs(path.join(dir, 'no-blobs-here'))).toEqual([]);
  });
});
