import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type pg from 'pg';
import { databaseKind, type Config } from '../config.js';
import type { DatabaseSchema } from './schema/index.js';
import { withStatementCache } from './statement-cache.js';
import * as m001 from './migrations/001-init.js';
import * as m002 from './migrations/002-audit.js';
import * as m003 from './migrations/003-messaging.js';
import * as m004 from './migrations/004-cases.js';
import * as m005 from './migrations/005-attachments.js';
import * as m006 from './migrations/006-backups.js';
import * as m007 from './migrations/007-phishing.js';
import * as m008 from './migrations/008-audit-perf.js';
import * as m009 from './migrations/009-receipts.js';
import * as m012 from './migrations/012-phishing-sharing.js';
import * as m014 from './migrations/014-org-connections.js';
import * as m015 from './migrations/015-audit-compact.js';
import * as m017 from './migrations/017-attachment-confirm.js';
import * as m018 from './migrations/018-read-receipts-setting.js';
import * as m019 from './migrations/019-audit-tile-nodes.js';

export type Db = Kysely<DatabaseSchema>;

export interface Database {
  db: Db;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/** Migrations are compiled in, not read from disk, so the bundle and tests run the same set. */
const migrations: Record<string, Migration> = { '001-init': m001, '002-audit': m002, '003-messaging': m003, '004-cases': m004, '005-attachments': m005, '006-backups': m006, '007-phishing': m007, '008-audit-perf': m008, '009-receipts': m009, '012-phishing-sharing': m012, '014-org-connections': m014, '015-audit-compact': m015, '017-attachment-confirm': m017, '018-read-receipts-setting': m018, '019-audit-tile-nodes': m019 };
const provider: MigrationProvider = { getMigrations: async () => migrations };

const sqliteFiles = new WeakMap<Db, SqliteDatabase.Database>();

/**
 * The better-sqlite3 handle under a SQLite database opened here (not under a transaction's handle),
 * for the few bulk paths that read rows as arrays without Kysely (the audit log's verify): its
 * statements must run synchronously, never across an await, since Kysely shares the connection.
 */
export function sqliteFileOf(db: Db): SqliteDatabase.Database | undefined {
  return sqliteFiles.get(db);
}

/** node-postgres, loaded on first use: a process on SQLite (the `consilium backup` CLI among them) never loads it. */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}

export function sqlitePath(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'consilium.sqlite');
}

export function openDatabase(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Database {
  const kind = databaseKind(config);
  if (kind === 'postgres') {
    // The pool is made on first use (Kysely calls this once), so pg is loaded only here.
    const pool = async () => {
      const pool = new (await loadPg()).Pool({ connectionString: config.databaseUrl, max: 10 });
      // An idle client that loses its connection (server restart, terminated backend) is reported
      // on the pool; unhandled, it would crash the process. The pool replaces the client itself.
      pool.on('error', (err) => process.emitWarning(`PostgreSQL idle connection lost: ${err.message}`));
      return pool;
    };
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind, close: () => db.destroy() };
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = new SqliteDatabase(sqlitePath(config));
  // WAL lets readers run beside the writer; synchronous=FULL makes a committed transaction
  // survive power loss, which an acknowledged message needs.
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = FULL');
  file.pragma('foreign_keys = ON');
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(file) }) });
  sqliteFiles.set(db, file);
  return { db, kind, close: () => db.destroy() };
}

export function migrateToLatest(db: Kysely<DatabaseSchema>): Promise<string[]> {
  return migrate(db, (migrator) => migrator.migrateToLatest());
}

/**
 * Migrates up (or down) to the named migration, inclusive: a migration's test starts from the
 * layout just before it, fills it, then runs the rest with migrateToLatest.
 */
export function migrateTo(db: Kysely<DatabaseSchema>, name: string): Promise<string[]> {
  if (!(name in migrations)) throw new Error(`no migration named ${name}`);
  return migrate(db, (migrator) => migrator.migrateTo(name));
}

async function migrate(db: Kysely<DatabaseSchema>, run: (migrator: Migrator) => Promise<MigrationResultSet>): Promise<string[]> {
  const { error, results } = await run(new Migrator({ db, provider }));
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
