/**
 * `@consilium/server/backup`: what `consilium backup …` needs, without the HTTP server
 * (entry.test.ts checks that importing it loads no fastify). The package's main entry re-exports
 * the same backup functions.
 */
export * from './index.js';
export { openDeps as openBackupDeps } from '../open-deps.js';
export { loadConfig, type Config, type ConfigInput } from '../config.js';
export type { Deps } from '../deps.js';
export { checkpointLogs } from '../audit/checkpointer.js';
