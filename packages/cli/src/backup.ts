import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backupStatus,
  checkRestored,
  checkpointLogs,
  createBackup,
  findTarget,
  generateAgeIdentity,
  loadBackupSigningKey,
  backupVerifier,
  loadConfig,
  openBackupDeps,
  openTarget,
  parseIdentityFile,
  parseSubset,
  pruneTarget,
  restoreSnapshot,
  runDrill,
  runVerify,
  runOnSchedule,
  SftpTarget,
  type BackupVerifyReport,
  type ConfigInput,
  type Deps,
} from '@consilium/server/backup';

interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
}

function configFrom(opts: GlobalOptions, extra: Partial<ConfigInput> = {}) {
  return loadConfig({
    ...(opts.dataDir && { dataDir: opts.dataDir }),
    ...(opts.databaseUrl && { databaseUrl: opts.databaseUrl }),
    logLevel: 'silent',
    ...extra,
  });
}

/** Opens the database, runs `fn`, signs an audit checkpoint for what it recorded, and closes. */
async function withDeps<T>(opts: GlobalOptions, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const { deps, database } = await openBackupDeps(configFrom(opts));
  try {
    const result = await fn(deps);
    await checkpointLogs(deps.db, deps.auditKey, deps.now());
    return result;
  } finally {
    await database.close();
  }
}

function readIdentities(file: string): string[] {
  return parseIdentityFile(readFileSync(file, 'utf8'));
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function printVerify(r: BackupVerifyReport) {
  console.log(`${r.ok ? 'OK' : 'FAILED'}  target ${r.target}: ${r.snapshots} snapshots (latest ${r.latestSeq ?? '-'}), ${r.objects} objects, ${mib(r.bytes)} checked (${r.mode}${r.objectsRead ? `, ${r.objectsRead} objects decrypted` : ''})`);
  for (const p of r.problems) console.log(`  [${p.kind}] ${p.message}`);
}

/** `consilium backup …`: registered on the main program by program.ts. */
export function registerBackupCommands(program: Command): void {
  const global = () => program.opts<GlobalOptions>();
  const backup = program.command('backup').description('encrypted, signed, verifiable backups (docs/operations/backups.md)');

  backup
    .command('keygen')
    .description('make an age identity for restoring backups; prints its public recipient (give two recipients to the server: operations and offline escrow)')
    .option('--pq', 'post-quantum hybrid (mlkem768x25519) instead of X25519', false)
    .requiredOption('--out <file>', 'where to write the identity (created 0600; refuses to overwrite). Keep it OFF the server.')
    .action(async (opts: { pq: boolean; out: string }) => {
      if (existsSync(opts.out)) throw new Error(`${opts.out} exists: refusing to overwrite an identity`);
      const { identity, recipient } = await generateAgeIdentity(opts.pq ? 'mlkem768x25519' : 'x25519');
      writeFileSync(opts.out, `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600, flag: 'wx' });
      console.log(recipient);
      console.error(`identity written to ${path.resolve(opts.out)}; add the recipient above to CONSILIUM_BACKUP_RECIPIENTS`);
    });

  backup
    .command('verifier-key')
    .description("print this deployment's backup verifier key (Ed25519 public key that signs manifests): pin it where you verify and restore")
    .action(() => {
      console.log(loadBackupSigningKey(configFrom(global())).verifierKey);
    });

  backup
    .command('create')
    .description('take a snapshot now (database, blobs, configuration without secrets), encrypted to the recipients and signed')
    .option('--recipient <age1…>', 'recipient (repeat; default: CONSILIUM_BACKUP_RECIPIENTS)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--target <name>', 'target name', 'local')
    .action(async (opts: { recipient: string[]; target: string }) => {
      await withDeps(global(), async (deps) => {
        const r = await createBackup(deps, { recipients: opts.recipient, target: opts.target });
        console.log(`snapshot ${r.seq} (${r.snapshotId}) on ${r.target}: ${r.files} files, ${mib(r.bytesTotal)} in total, ${mib(r.bytesWritten)} written, ${r.reusedBlobs} blobs unchanged${r.databaseBlocks > 0 ? `, ${r.reusedBlocks} of ${r.databaseBlocks} database blocks unchanged` : ''}, ${(r.durationMs / 1000).toFixed(1)} s`);
        console.log(`manifest sha256 ${r.manifestHash}`);
      });
    });

  backup
    .command('verify')
    .description('check signatures, the manifest chain and every chunk hash without decrypting; --read-data also decrypts (needs --identity). Exit 1 on any problem.')
    .option('--read-data', 'decrypt and check all data', false)
    .option('--read-data-subset <n/t>', 'decrypt share n of t (or auto/t: a rotating share, all data every t days)')
    .option('--identity <file>', 'age identity file (for --read-data)')
    .option('--target <name>', 'target name', 'local')
    .option('--verifier-key <key>', 'pinned backup verifier key (default: this deployment\'s)')
    .option('--json', 'print the report as JSON', false)
    .action(async (opts: { readData: boolean; readDataSubset?: string; identity?: string; target: string; verifierKey?: string; json: boolean }) => {
      const reading = opts.readData || !!opts.readDataSubset;
      if (reading && !opts.identity) throw new Error('--read-data and --read-data-subset need --identity FILE');
      const identities = reading ? readIdentities(opts.identity!) : undefined;
      const report = await withDeps(global(), async (deps) =>
        runVerify(deps, {
          target: opts.target,
          ...(identities && { identities }),
          ...(opts.readDataSubset && { subset: parseSubset(opts.readDataSubset, deps.now()) }),
          ...(opts.verifierKey && { verifierKey: opts.verifierKey }),
        }),
      );
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printVerify(report);
      if (!report.ok) process.exitCode = 1;
    });

  backup
    .command('restore <snapshot>')
    .description('restore a snapshot ("latest", a seq number or a snapshot id) into a fresh data directory; works on a new machine with only the target, the identity and the verifier key')
    .requiredOption('--identity <file>', 'age identity file')
    .requiredOption('--to <dir>', 'fresh (absent or empty) directory: the new data directory')
    .option('--from <dir>', 'target directory to restore from (default: the configured local target)')
    .option('--target <name>', 'a configured target to restore from instead (e.g. an SFTP target)')
    .option('--verifier-key <key>', "pinned backup verifier key (default: this data directory's signing key)")
    .option('--to-database <url>', 'PostgreSQL snapshots: a fresh, empty database to restore into')
    .action(async (snapshot: string, opts: { identity: string; to: string; from?: string; target?: string; verifierKey?: string; toDatabase?: string }) => {
      const config = configFrom(global());
      const info = opts.from ? { name: 'restore-source', type: 'local' as const, location: path.resolve(opts.from), medium: 'disk', offsite: false, immutable: false } : findTarget(config, opts.target);
      if (!opts.verifierKey && !existsSync(path.join(config.dataDir, 'backup-signing.key')) && !config.backupSigningKey) {
        throw new Error('no backup signing key here: give --verifier-key (printed by `consilium backup verifier-key` on the original server)');
      }
      const verifier = opts.verifierKey ? backupVerifier(opts.verifierKey) : loadBackupSigningKey(config).verifier;
      const t0 = performance.now();
      const source = openTarget(info);
      const restored = await restoreSnapshot({
        target: source,
        verifier,
        snapshot,
        identities: readIdentities(opts.identity),
        toDir: path.resolve(opts.to),
        ...(opts.toDatabase && { databaseUrl: opts.toDatabase }),
      }).finally(() => source.close());
      const ms = performance.now() - t0;
      const m = restored.manifest.body;
      console.log(`restored snapshot ${m.seq} (${m.snapshotId}, taken ${m.createdAt}): ${restored.files} files, ${mib(restored.bytes)} in ${(ms / 1000).toFixed(1)} s into ${restored.toDir}`);
      for (const p of restored.chainProblems) console.log(`  warning [${p.kind}] ${p.message}`);
      const checks = await checkRestored(restored.manifest, { dir: restored.toDir, ...(opts.toDatabase && { databaseUrl: opts.toDatabase }) });
      for (const c of checks) console.log(`  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`);
      console.log('Next: copy secret.key and audit-signing.key from your key store into the new data directory, then start the server on it (docs/operations/backups.md).');
      if (checks.some((c) => !c.ok)) process.exitCode = 1;
    });

  backup
    .command('drill')
    .description('restore drill: restore the latest snapshot into a temporary place, check it, time it, record it, and write Markdown/HTML/JSON reports')
    .requiredOption('--identity <file>', 'age identity file')
    .option('--target <name>', 'target name', 'local')
    .option('--report-dir <dir>', 'where reports go (default: <data dir>/backup-reports)')
    .option('--verifier-key <key>', 'pinned backup verifier key')
    .addOption(new Option('--schedule <cron>', 'keep running and drill on this cron schedule (e.g. "0 3 1 * *", monthly)'))
    .action(async (opts: { identity: string; target: string; reportDir?: string; verifierKey?: string; schedule?: string }) => {
      const identities = readIdentities(opts.identity);
      const once = async () => {
        const { report, files } = await withDeps(global(), (deps) =>
          runDrill(deps, {
            identities,
            target: opts.target,
            ...(opts.reportDir && { reportDir: path.resolve(opts.reportDir) }),
            ...(opts.verifierKey && { verifierKey: opts.verifierKey }),
          }),
        );
        console.log(`${report.ok ? 'PASSED' : 'FAILED'}  drill of snapshot ${report.snapshot?.seq ?? '-'}: restored in ${(report.restoreMs / 1000).toFixed(1)} s, checks ${(report.checksMs / 1000).toFixed(1)} s`);
        for (const c of report.checks) console.log(`  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`);
        if (report.error) console.log(`  error: ${report.error}`);
        console.log(`reports: ${files.markdown}, ${files.html}, ${files.json}`);
        return report.ok;
      };
      if (!opts.schedule) {
        if (!(await once())) process.exitCode = 1;
        return;
      }
      const job = runOnSchedule(opts.schedule, async () => {
        await once().catch((err: unknown) => console.error(`drill failed: ${(err as Error).message}`));
      });
      console.log(`drills scheduled (${opts.schedule}); next at ${job.nextRun()?.toISOString() ?? 'never'}`);
    });

  backup
    .command('prune')
    .description(
      "retention: keep the last N verified snapshots and the newest of each day/week/month by the TARGET'S own file times (never a manifest's createdAt); pruned manifests move to pruned/, unnamed objects are removed. Run it with the pruner's credential, not the server's.",
    )
    .option('--target <name>', 'target name', 'local')
    .option('--keep-last <n>', 'verified snapshots always kept (at least 1)', '7')
    .option('--keep-daily <n>', 'newest snapshot of each of the last n days', '7')
    .option('--keep-weekly <n>', 'newest snapshot of each of the last n ISO weeks', '5')
    .option('--keep-monthly <n>', 'newest snapshot of each of the last n months', '12')
    .option('--ssh-user <user>', "SFTP targets: the pruner's account (the directory's owner), not the writer's")
    .option('--ssh-key <file>', "SFTP targets: the pruner's private key")
    .option('--orphan-grace <hours>', 'remove objects no manifest names only when older than this (a backup may be writing them)', '24')
    .option('--init', 'SFTP targets: create the directory layout first (as the owner: snapshots/ and objects/xx/ group-writable, pruned/ not)', false)
    .option('--verifier-key <key>', "pinned backup verifier key (default: this data directory's signing key)")
    .option('--dry-run', 'print the plan, change nothing', false)
    .action(
      async (opts: { target: string; keepLast: string; keepDaily: string; keepWeekly: string; keepMonthly: string; sshUser?: string; sshKey?: string; orphanGrace: string; init: boolean; verifierKey?: string; dryRun: boolean }) => {
        const config = configFrom(global());
        const info = findTarget(config, opts.target);
        if (info.type === 'sftp' && (!opts.sshUser || !opts.sshKey)) throw new Error("SFTP targets are pruned with the owner's credential: give --ssh-user and --ssh-key (the server's writer key cannot delete)");
        const count = (v: string, name: string) => {
          if (!/^\d+$/.test(v)) throw new Error(`${name} takes a whole number`);
          return Number(v);
        };
        const verifier = opts.verifierKey ? backupVerifier(opts.verifierKey) : loadBackupSigningKey(config).verifier;
        const target = openTarget(info, opts.sshUser && opts.sshKey ? { username: opts.sshUser, privateKeyFile: path.resolve(opts.sshKey) } : undefined);
        try {
          if (opts.init) {
            if (!(target instanceof SftpTarget)) throw new Error('--init is for SFTP targets');
            await target.prepareLayout();
          }
          const r = await pruneTarget(target, verifier, {
            policy: { keepLast: count(opts.keepLast, '--keep-last'), keepDaily: count(opts.keepDaily, '--keep-daily'), keepWeekly: count(opts.keepWeekly, '--keep-weekly'), keepMonthly: count(opts.keepMonthly, '--keep-monthly') },
            orphanGraceMs: count(opts.orphanGrace, '--orphan-grace') * 3_600_000,
            dryRun: opts.dryRun,
          });
          for (const k of r.plan.keep) console.log(`keep    snapshot ${k.seq}  (${k.reasons.join(', ')})`);
          for (const d of r.plan.remove) console.log(`${opts.dryRun ? 'would prune' : 'pruned '} snapshot ${d.seq}`);
          if (!opts.dryRun) console.log(`${r.objectsRemoved} objects removed`);
        } finally {
          await target.close();
        }
      },
    );

  backup
    .command('status')
    .description('last backup, verify and drill, targets, and 3-2-1-1-0')
    .option('--json', 'print as JSON', false)
    .action(async (opts: { json: boolean }) => {
      const { deps, database } = await openBackupDeps(configFrom(global()));
      try {
        const s = await backupStatus(deps);
        if (opts.json) return console.log(JSON.stringify(s, null, 2));
        const run = (label: string, r: typeof s.lastBackup) =>
          console.log(`${label.padEnd(12)} ${r ? `${r.outcome.padEnd(8)} ${r.startedAt}${r.seq !== null ? `  snapshot ${r.seq}` : ''}${r.durationMs !== null ? `  ${(r.durationMs / 1000).toFixed(1)} s` : ''}` : 'never'}`);
        run('last backup', s.lastBackup);
        run('last verify', s.lastVerify);
        run('last drill', s.lastDrill);
        console.log(`schedule     ${s.schedule ?? 'off'}`);
        for (const t of s.targets) console.log(`target       ${t.name} (${t.type}, ${t.medium}${t.offsite ? ', off-site' : ''}${t.immutable ? ', immutable' : ''}) ${t.location}  latest ${t.latestSeq ?? '-'}`);
        for (const [k, v] of Object.entries(s.rule)) console.log(`3-2-1-1-0    ${v.ok ? 'ok ' : 'NO '} ${k}: ${v.have}/${v.need} (${v.note})`);
      } finally {
        await database.close();
      }
    });
}

/**
 * `serve --demo` turns scheduled backups on (hourly), and restore drills (monthly) when it made the
 * demo identities. Without configured recipients it makes two
 * demo identities in a directory BESIDE the data directory, never inside it, and says so: a real
 * deployment keeps them on other machines (docs/operations/backups.md).
 */
export async function demoBackupSettings(config: { dataDir: string; backupRecipients: string[]; backupSchedule: string }): Promise<Partial<ConfigInput>> {
  const schedule = config.backupSchedule || '0 * * * *';
  if (config.backupRecipients.length >= 2) return { backupSchedule: schedule };
  const dir = `${config.dataDir.replace(/\/+$/, '')}-demo-backup-keys`;
  const recipients: string[] = [];
  for (const name of ['operations', 'escrow']) {
    const file = path.join(dir, `${name}.key`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { identity, recipient } = await generateAgeIdentity('x25519');
      writeFileSync(file, `# DEMO ONLY: keep real identities off the server\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600, flag: 'wx' });
    }
    const m = /# public key: (\S+)/.exec(readFileSync(file, 'utf8'));
    if (!m) throw new Error(`${file} has no public key line`);
    recipients.push(m[1]!);
  }
  // The demo also drills by itself (monthly, the default schedule) with the demo operations
  // identity: a real server holds no identity, so it drills only on a restore host.
  const drillIdentity = path.join(dir, 'operations.key');
  console.log(`Demo backups: hourly (${schedule}) to ${path.join(config.dataDir, 'backups')}; restore drills monthly; demo identities in ${dir} (DEMO ONLY: keep real ones off the server).`);
  return { backupRecipients: recipients, backupSchedule: schedule, backupDrillIdentityFile: drillIdentity };
}
