import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { ServerKey } from './secrets/server-key.js';
import type { LogKey } from './audit/signing.js';
import type { FanOut } from './delivery/fan-out.js';

/** What every service function receives as its first argument. `now` is injectable for tests. */
export interface Deps {
  db: Db;
  dbKind: 'sqlite' | 'postgres';
  config: Config;
  serverKey: ServerKey;
  auditKey: LogKey;
  /** Notifies online devices that something new is waiting (in-process, or NATS across nodes). */
  fanOut: FanOut;
  now: () => Date;
}

/**
 * Runs `fn` in one database transaction with `Deps` bound to it, so an action and its audit entry
 * commit together. Inside, use only `tx.db` (on SQLite the outer handle would wait on the
 * transaction's own connection). Nested calls join the outer transaction.
 */
export async function inTransaction<T>(deps: Deps, fn: (tx: Deps) => Promise<T>): Promise<T> {
  if (deps.db.isTransaction) return fn(deps);
  return deps.db.transaction().execute((trx) => fn({ ...deps, db: trx }));
}

export const iso = (d: Date): string => d.toISOString();
export const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);
