import type { Config } from './config.js';
import { migrateToLatest, openDatabase, type Database } from './db/database.js';
import type { Deps } from './deps.js';
import { ServerKey } from './secrets/server-key.js';
import { loadLogKey } from './audit/signing.js';
import { openFanOut } from './delivery/fan-out.js';

/**
 * Opens what every part of the server runs on: the database (migrated), the server key, the audit
 * signing key and the fan-out. Its own module, without the HTTP server, so `consilium backup …`
 * (the `@consilium/server/backup` entry) starts without loading fastify, the routes and the web
 * stack (~1 s of every backup run on the 2-core machine); server.ts opens the same.
 */
export async function openDeps(config: Config, now: () => Date = () => new Date()): Promise<{ deps: Deps; database: Database }> {
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
