import type { Config } from '../config.js';
import { migrateToLatest, openDatabase, type Database } from '../db/database.js';
import type { Deps } from '../deps.js';
import { ServerKey } from '../secrets/server-key.js';
import { loadLogKey } from '../audit/signing.js';
import { openFanOut } from '../delivery/fan-out.js';

/**
 * The same Deps as server.ts's openDeps (database opened and migrated, server key, audit key,
 * fan-out), without importing the HTTP server: `consilium backup …` starts from here (cli's
 * backup-main.ts), so a backup or restore does not load fastify, the routes and the web stack
 * first (~1 s of every run's time on the 2-core machine). Keep the two in step; backup's
 * open-deps.test.ts compares them.
 */
export async function openBackupDeps(config: Config, now: () => Date = () => new Date()): Promise<{ deps: Deps; database: Database }> {
  const database = openDatabase(config);
  await migrateToLatest(database.db);
  const deps: Deps = {
    db: database.db,
    dbKind: database.kind,
    config,
    serverKey: ServerKey.fromConfig(config),
    auditKey: loadLogKey(config),
    fanOut: await openFanOut(config).catch(async (err: unknown) => {
      await database.close();
      throw err;
    }),
    now,
  };
  return { deps, database };
}
