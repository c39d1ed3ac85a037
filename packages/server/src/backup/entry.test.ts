import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// `consilium backup …` loads @consilium/server/backup (entry.ts), not the HTTP server: a fresh
// Node process imports a module and says whether fastify was loaded with it (CommonJS modules
// imported from ESM are in the CommonJS cache). The server's own module is the control.
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');

function load(file: string): { fastify: boolean; exports: string[] } {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(path.join(here, file)).href)});
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ fastify: cache.some((k) => k.includes('/node_modules/fastify/')), exports: Object.keys(m).sort() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1)!);
}

describe('the backup entry', () => {
  it('loads no HTTP server, and has what the CLI opens backups with', { timeout: 60_000 }, () => {
    expect(load('../server.ts').fastify).toBe(true);
    const entry = load('entry.ts');
    expect(entry.fastify).toBe(false);
    expect(entry.exports).toEqual(expect.arrayContaining(['createBackup', 'restoreSnapshot', 'openBackupDeps', 'loadConfig', 'checkpointLogs']));
  });
});
