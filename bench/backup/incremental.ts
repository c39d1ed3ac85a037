/**
 * Repeatable incremental backup timing on a data set kept by `run.ts --keep`: the same 1% change
 * backed up again and again, by us and by restic, each from the same starting state, so that A/B
 * runs of the incremental can alternate on one machine.
 *
 *   flock /tmp/consilium-bench.lock npx tsx bench/backup/run.ts --keep      (prints its work dir W)
 *   npx tsx bench/backup/incremental.ts prepare W       once: saves state X (target, restic repo and
 *                                                       database as they are), then makes the 1%
 *                                                       change (state Y: 1% more messages, 1% more blobs)
 *   flock /tmp/consilium-bench.lock npx tsx bench/backup/incremental.ts ours W [runs]
 *   flock /tmp/consilium-bench.lock npx tsx bench/backup/incremental.ts restic W [runs]
 *   flock /tmp/consilium-bench.lock npx tsx bench/backup/incremental.ts both W [runs]   (alternating)
 *   flock /tmp/consilium-bench.lock npx tsx bench/backup/incremental.ts ab W [runs]     (alternating
 *       ours, restic and OURS_B=<another ours.mjs>, e.g. one importing an older build; OURS_A
 *       replaces ours.mjs the same way)
 * COLD=1 drops the page cache before each timed backup (as root; else only the data set's pages):
 * both tools then read the data from disk; otherwise whichever runs second may find it cached.
 *
 * Each run puts back the database of state Y and removes from the target (or restic's repository
 * and cache) every file that state X did not have, then syncs, then times one backup with
 * /usr/bin/time in its own process. `ours` also times a second backup right after (no change).
 * Our side runs the built packages (build first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { addBlobs, addMessages, files, resetTo, settle } from './dataset.js';

const [cmd, work, runsText] = process.argv.slice(2);
if (!cmd || !work) throw new Error('usage: incremental.ts prepare|ours|restic|both <work dir> [runs]');
const runs = Number(runsText ?? 1);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dataDir = path.join(work, 'data');
const dbFile = path.join(dataDir, 'consilium.sqlite');
const oursTarget = path.join(work, 'ours-target');
const resticRepo = path.join(work, 'restic-mine');
const resticCache = path.join(work, 'restic-mine-cache');
const resticEnv = { ...process.env, RESTIC_PASSWORD: 'consilium-bench', RESTIC_CACHE_DIR: resticCache };
const state = path.join(work, 'incremental-state');

/** Removes every file under `dir` that is not in the saved list. */
function resetToList(dir: string, listFile: string) {
  return resetTo(dir, new Set(readFileSync(listFile, 'utf8').split('\n').filter(Boolean)));
}

function recipients(): string {
  const a = execFileSync('age-keygen', ['-y', path.join(work, 'ops.key')], { encoding: 'utf8' }).trim();
  const second = path.join(state, 'escrow.key');
  if (!existsSync(second)) execFileSync('age-keygen', ['-o', second], { stdio: 'ignore' });
  const b = execFileSync('age-keygen', ['-y', second], { encoding: 'utf8' }).trim();
  return `${a},${b}`;
}

/**
 * COLD=1: as root the whole page cache is dropped (as run.ts does before each operation), else
 * only the data set's pages, so that both tools read it from disk.
 */
function settleCold() {
  if (process.env.COLD !== '1') execFileSync('sync');
  else if (!settle()) execFileSync('python3', ['-c', EVICT, dataDir]);
}
const EVICT = `
import os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        fd = os.open(os.path.join(d, f), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
`;

function timed(label: string, bin: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  settleCold();
  const timeFile = path.join(state, 'time.out');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, bin, ...args], { env, cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
  const [s, kb, u, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ');
  const opMs = /"opMs":(\d+)/.exec(r.stdout);
  const line = `${label}${process.env.COLD === '1' ? ' (cold)' : ''}: wall ${s} s${opMs ? `, operation ${(Number(opMs[1]) / 1000).toFixed(2)} s` : ''}, ${(Number(kb) / 1024).toFixed(0)} MiB, user ${u} s, sys ${sys} s`;
  console.log(line);
  if (r.stderr.trim()) console.log(r.stderr.trim().split('\n').map((l) => `    ${l}`).join('\n'));
  writeFileSync(path.join(state, 'log.txt'), `${new Date().toISOString()} ${line} ${r.stdout.trim()}\n`, { flag: 'a' });
}

if (cmd === 'prepare') {
  mkdirSync(state, { recursive: true });
  // restic's full backup of state X, in a repository whose password we know.
  execFileSync('restic', ['-r', resticRepo, '--quiet', 'init'], { env: resticEnv });
  execFileSync('restic', ['-r', resticRepo, '--quiet', 'backup', dataDir], { env: resticEnv });
  writeFileSync(path.join(state, 'target-x.txt'), files(oursTarget).join('\n'));
  writeFileSync(path.join(state, 'restic-x.txt'), [...files(resticRepo), ...files(resticCache)].join('\n'));
  // The 1% change: 10,000 more messages (1% of 1M) and 20 MiB more blobs.
  const before = statSync(dbFile).size;
  const db = new SqliteDatabase(dbFile, { readonly: true });
  const messages = (db.prepare('SELECT count(*) AS n FROM mls_message').get() as { n: number }).n;
  db.close();
  const add = Math.ceil(messages / 100);
  addMessages(dataDir, add, messages + 10_000_000);
  const written = addBlobs(dataDir, 20 * 1024 * 1024, 3);
  copyFileSync(dbFile, path.join(state, 'y.db'));
  console.log(`prepared: ${messages} + ${add} messages, database ${before} -> ${statSync(dbFile).size} bytes, ${written} bytes of new blobs; recipients ${recipients()}`);
} else {
  const ours = (script = process.env.OURS_A ?? path.join(here, 'ours.mjs'), label = 'ours') => {
    resetToList(oursTarget, path.join(state, 'target-x.txt'));
    copyFileSync(path.join(state, 'y.db'), dbFile);
    const r = recipients();
    timed(`${label} incremental`, process.execPath, [script, 'create', dataDir, oursTarget, r]);
    timed(`${label} no change  `, process.execPath, [script, 'create', dataDir, oursTarget, r]);
  };
  const restic = () => {
    resetToList(resticRepo, path.join(state, 'restic-x.txt'));
    resetToList(resticCache, path.join(state, 'restic-x.txt'));
    copyFileSync(path.join(state, 'y.db'), dbFile);
    timed('restic incremental', 'restic', ['-r', resticRepo, '--quiet', 'backup', dataDir], resticEnv);
  };
  for (let i = 0; i < runs; i++) {
    if (cmd === 'ours' || cmd === 'both') ours();
    if (cmd === 'restic' || cmd === 'both' || cmd === 'ab') restic();
    if (cmd === 'ab') ours(process.env.OURS_B, 'B   ');
    if (cmd === 'ab') ours();
  }
}
