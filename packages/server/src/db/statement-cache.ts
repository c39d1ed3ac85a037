import type { Database as SqliteFile, Statement } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; queries with long IN lists vary in text, so the cache is bounded. */
const CACHED_STATEMENTS = 1000;

/**
 * Kysely's SQLite driver prepares every statement anew on each query, and preparing (parsing and
 * planning in SQLite) costs more than running most of ours. This keeps the prepared statements by
 * SQL text (least recently used ones dropped), so a hot query is parsed once per process. A
 * statement still being iterated (a streamed query) is never handed out twice: that caller gets a
 * fresh one. SQLite re-prepares a cached statement by itself after a schema change.
 */
export function withStatementCache(file: SqliteFile, size = CACHED_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => file.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) {
        if (cached.busy) return file.prepare(sql) as unknown as SqliteStatement;
        cache.delete(sql);
        cache.set(sql, cached);
        return cached as unknown as SqliteStatement;
      }
      const statement = file.prepare(sql);
      cache.set(sql, statement);
      if (cache.size > size) cache.delete(cache.keys().next().value!);
      return statement as unknown as SqliteStatement;
    },
  };
}
