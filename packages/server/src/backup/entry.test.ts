import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// `consilium backup …` loads @consilium/server/backup (entry.ts), not the HTTP server, and neither
// the SSH stack (loaded when an SFTP target is opened) nor node-postgres (when a PostgreSQL
// database is opened): each is start-up time the command would pay on every run. A fresh Node
// process imports a module and says which of these were loaded with it (CommonJS modules imported
// from ESM are in the CommonJS cache). The server's own module, and the entry followed by imports
// of ssh2 and pg, are the controls.
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');

function load(file: string, then = ''): { fastify: boolean; ssh2: boolean; pg: boolean; exports: string[] } {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(path.join(here, file)).href)});
${then}
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
const loaded = (pkg) => cache.some((k) => k.includes('/node_modules/' + pkg + '/'));
console.log(JSON.stringify({ fastify: loaded('fastify'), ssh2: loaded('ssh2'), pg: loaded('pg'), exports: Object.keys(m).sort() }));`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim().split('\n').at(-1)!);
}

describe('the backup entry', () => {
  it('loads no HTTP server, SSH or PostgreSQL client, and has what the CLI opens backups with', { timeout: 60_000 }, () => {
    expect(load('../server.ts').fastify).toBe(true);
    expect(load('entry.ts', "await import('ssh2'); await import('pg');")).toMatchObject({ ssh2: true, pg: true });
    const entry = load('entry.ts');
    expect(entry).toMatchObject({ fastify: false, ssh2: false, pg: false });
    expect(entry.exports).toEqual(expect.arrayContaining(['createBackup', 'restoreSnapshot', 'openBackupDeps', 'loadConfig', 'checkpointLogs']));
  });
});
