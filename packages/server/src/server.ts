import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { migrateToLatest, openDatabase, type Database } from './db/database.js';
import { ServerKey } from './secrets/server-key.js';
import type { Deps } from './deps.js';
import { buildApp } from './app.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  database: Database;
  /** Base URL the server listens on (with the ephemeral port filled in). */
  url: string;
  close(): Promise<void>;
}

export async function openDeps(config: Config, now: () => Date = () => new Date()): Promise<{ deps: Deps; database: Database }> {
  const database = openDatabase(config);
  await migrateToLatest(database.db);
  const deps: Deps = { db: database.db, dbKind: database.kind, config, serverKey: ServerKey.fromConfig(config), now };
  return { deps, database };
}

/** Opens the database, applies migrations, and listens. close() drains requests, then the pool. */
export async function startServer(config: Config, options: { now?: () => Date } = {}): Promise<RunningServer> {
  const { deps, database } = await openDeps(config, options.now);
  const app = await buildApp(deps);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await database.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    deps,
    database,
    url: `http://${host}:${port}`,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
