import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { openDeps } from './open-deps.js';
import { startCheckpointer } from './audit/checkpointer.js';
import { startIndexer } from './audit/indexer.js';
import { startBackupSchedule } from './backup/schedule.js';
import { startCaseTimers } from './cases/timers.js';
import type { Deps } from './deps.js';
import { buildApp } from './app.js';
import { pruneAttempts } from './auth/store.js';
import { addSeconds, iso } from './deps.js';

/** Sign-in attempts older than this are never read (the throttle window is at most a day). */
const ATTEMPT_RETENTION_SECONDS = 24 * 3600;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  database: Database;
  /** Base URL the server listens on (with the ephemeral port filled in). */
  url: string;
  close(): Promise<void>;
}

export { openDeps } from './open-deps.js';

/** Opens the database, applies migrations, and listens. close() drains requests, then the pool. */
export async function startServer(config: Config, options: { now?: () => Date } = {}): Promise<RunningServer> {
  const { deps, database } = await openDeps(config, options.now);
  const app = await buildApp(deps);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await deps.fanOut.close();
    await database.close();
    throw err;
  }
  const prune = () =>
    pruneAttempts(deps.db, iso(addSeconds(deps.now(), -ATTEMPT_RETENTION_SECONDS))).catch((err: unknown) =>
      app.log.warn({ err }, 'pruning sign-in attempts failed'),
    );
  const pruner = setInterval(prune, PRUNE_EVERY_MS);
  pruner.unref();
  const checkpointer = startCheckpointer(deps.db, deps.auditKey, deps.now, (err) => app.log.error({ err }, 'audit checkpoint failed'));
  const indexer = startIndexer(deps.db, deps.dbKind, (err) => app.log.error({ err }, 'audit indexing failed'));
  const caseTimers = startCaseTimers(deps, (err) => app.log.error({ err }, 'case timers failed'));
  const backups = startBackupSchedule(deps, app.log);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    deps,
    database,
    url: `http://${host}:${port}`,
    close: async () => {
      clearInterval(pruner);
      await app.close();
      await backups?.stop();
      await caseTimers.stop();
      await checkpointer.stop();
      await indexer.stop();
      await deps.fanOut.close();
      await database.close();
    },
  };
}
