import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { ServerKey } from './secrets/server-key.js';

/** What every service function receives as its first argument. `now` is injectable for tests. */
export interface Deps {
  db: Db;
  dbKind: 'sqlite' | 'postgres';
  config: Config;
  serverKey: ServerKey;
  now: () => Date;
}

export const iso = (d: Date): string => d.toISOString();
export const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);
