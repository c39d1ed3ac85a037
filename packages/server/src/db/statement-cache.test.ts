import { describe, expect, it } from 'vitest';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from './statement-cache.js';

describe('prepared statements kept by SQL text (SQLite)', () => {
  it('prepares a repeated query once, hands a busy (streaming) statement out only once, and stays bounded', async () => {
    const file = new SqliteDatabase(':memory:');
    const prepared: string[] = [];
    const prepare = file.prepare.bind(file);
    file.prepare = ((text: string) => {
      prepared.push(text);
      return prepare(text);
    }) as typeof file.prepare;
    const cached = withStatementCache(file, 3);
    const db = new Kysely<{ t: { id: number; v: string } }>({ dialect: new SqliteDialect({ database: cached }) });
    await sql`create table t (id integer primary key, v text not null)`.execute(db);
    for (let i = 1; i <= 5; i++) await db.insertInto('t').values({ id: i, v: `row ${i}` }).execute();
    const insertSql = prepared.filter((p) => p.startsWith('insert'));
    expect(insertSql).toHaveLength(1);

    // The same statement, read while another read of it is still being iterated (Kysely holds its
    // one connection during a stream, so this is the driver's view: prepare, iterate, prepare again).
    const text = 'select v from t where id <= ? order by id';
    const streaming = cached.prepare(text);
    const seen: string[] = [];
    for (const row of streaming.iterate([3]) as Iterable<{ v: string }>) {
      seen.push(row.v);
      const again = cached.prepare(text);
      expect(again).not.toBe(streaming);
      expect((again.all([3]) as { v: string }[]).map((r) => r.v)).toEqual(['row 1', 'row 2', 'row 3']);
    }
    expect(seen).toEqual(['row 1', 'row 2', 'row 3']);
    expect(cached.prepare(text)).toBe(streaming);

    // A schema change: the cached statement is re-prepared by SQLite, and sees the new column.
    await sql`alter table t add column w text`.execute(db);
    expect(await db.selectFrom('t').selectAll().where('id', '=', 1).executeTakeFirst()).toEqual({ id: 1, v: 'row 1', w: null });

    // Bounded: after more distinct texts than the cache holds, the first one is prepared again.
    const before = prepared.length;
    for (let i = 0; i < 5; i++) await sql.raw(`select ${i} as n`).execute(db);
    await db.insertInto('t').values({ id: 6, v: 'row 6' }).execute();
    expect(prepared.length).toBe(before + 6);
    await db.destroy();
  });
});
