/**
 * One Consilium backup operation in its own process, so the bench can measure its time and peak
 * RSS with /usr/bin/time exactly as it measures restic's. Plain Node on the built packages and the
 * server's backup entry (what `consilium backup` loads), so neither the time nor the RSS includes
 * a TypeScript loader.
 * Build first: `flock /tmp/consilium-build.lock npm run build`.
 *
 *   node bench/backup/ours.mjs create  <dataDir> <backupDir> <recipient,recipient>
 *   node bench/backup/ours.mjs restore <dataDir> <backupDir> <identityFile> <toDir>
 *   node bench/backup/ours.mjs startup <dataDir> <backupDir> -
 *
 * Prints one JSON line with what the operation reports and `opMs`, the operation's own time.
 */
import { readFileSync } from 'node:fs';
// The backup entry only, as `consilium backup …` loads it (not the HTTP server and the web stack).
import { createBackup, findTarget, loadBackupSigningKey, loadConfig, openBackupDeps, openTarget, parseIdentityFile, restoreSnapshot } from '@consilium/server/backup';

const [op, dataDir, backupDir, arg, toDir] = process.argv.slice(2);
if (!op || !dataDir || !backupDir || !arg) throw new Error('usage: ours.mjs create|restore|startup <dataDir> <backupDir> …');

const t0 = performance.now();
const opMs = () => Math.round(performance.now() - t0);
if (op === 'startup') {
  // Loads everything create and restore load, does nothing: the fixed cost of a process.
  console.log(JSON.stringify({ opMs: 0 }));
} else if (op === 'create') {
  const config = loadConfig({ dataDir, backupDir, logLevel: 'silent', backupRecipients: arg.split(',') }, {});
  const { deps, database } = await openBackupDeps(config);
  try {
    const r = await createBackup(deps);
    console.log(JSON.stringify({ ...r, opMs: opMs() }));
  } finally {
    await database.close();
  }
} else if (op === 'restore') {
  const config = loadConfig({ dataDir, backupDir, logLevel: 'silent' }, {});
  const target = openTarget(findTarget(config));
  const r = await restoreSnapshot({
    target,
    verifier: loadBackupSigningKey(config).verifier,
    snapshot: 'latest',
    identities: parseIdentityFile(readFileSync(arg, 'utf8')),
    toDir,
  });
  await target.close();
  console.log(JSON.stringify({ files: r.files, bytes: r.bytes, seq: r.manifest.body.seq, opMs: opMs() }));
} else {
  throw new Error(`unknown operation ${op}`);
}
