/**
 * One Consilium backup operation in its own process, so the bench can measure its time and peak
 * RSS with /usr/bin/time exactly as it measures restic's.
 *
 *   node --import tsx bench/backup/ours.ts create  <dataDir> <backupDir> <recipient,recipient>
 *   node --import tsx bench/backup/ours.ts restore <dataDir> <backupDir> <identityFile> <toDir>
 *   node --import tsx bench/backup/ours.ts startup <dataDir> <backupDir> -
 *
 * Prints one JSON line with what the operation reports and `opMs`, the operation's own time
 * (without the process start, which under tsx is several seconds on a busy machine).
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../packages/server/src/config.js';
import { openDeps } from '../../packages/server/src/server.js';
import { createBackup } from '../../packages/server/src/backup/create.js';
import { restoreSnapshot } from '../../packages/server/src/backup/restore.js';
import { loadBackupSigningKey } from '../../packages/server/src/backup/keys.js';
import { findTarget, openTarget } from '../../packages/server/src/backup/targets.js';
import { parseIdentityFile } from '../../packages/server/src/backup/age.js';

const [op, dataDir, backupDir, arg, toDir] = process.argv.slice(2);
if (!op || !dataDir || !backupDir || !arg) throw new Error('usage: ours.ts create|restore <dataDir> <backupDir> …');

const t0 = performance.now();
const opMs = () => Math.round(performance.now() - t0);
if (op === 'startup') {
  // Loads everything create and restore load, does nothing: the fixed cost of a process.
  console.log(JSON.stringify({ opMs: 0 }));
} else if (op === 'create') {
  const config = loadConfig({ dataDir, backupDir, logLevel: 'silent', backupRecipients: arg.split(',') }, {});
  const { deps, database } = await openDeps(config);
  try {
    const r = await createBackup(deps);
    console.log(JSON.stringify({ ...r, opMs: opMs() }));
  } finally {
    await database.close();
  }
} else if (op === 'restore') {
  const config = loadConfig({ dataDir, backupDir, logLevel: 'silent' }, {});
  const r = await restoreSnapshot({
    target: openTarget(findTarget(config)),
    verifier: loadBackupSigningKey(config).verifier,
    snapshot: 'latest',
    identities: parseIdentityFile(readFileSync(arg, 'utf8')),
    toDir: toDir!,
  });
  console.log(JSON.stringify({ files: r.files, bytes: r.bytes, seq: r.manifest.body.seq, opMs: opMs() }));
} else {
  throw new Error(`unknown operation ${op}`);
}
