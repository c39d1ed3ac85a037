import { Command, Option } from 'commander';
import { Email, NewPassword, Role, staffRoles } from '@consilium/protocol';
import {

  createAccount,
  createOrganisation,
  getAccountByEmail,
  getOrganisationBySlug,
  listOrganisations,
  loadConfig,
  openDeps,
  resetMfa,
  seedDemo,
  startServer,
  systemActor,
  type ConfigInput,
  type Deps,
  type DemoCredential,
  type VerifyReport,
  verifyLog,
  checkpointLogs,
  listLogIds,
} from '@consilium/server';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readSecret } from './prompt.js';
import { demoBackupSettings, registerBackupCommands } from './backup.js';

/** The web build shipped beside the CLI in this repository (packages/web/dist). */
const bundledWebDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
}

function configFrom(opts: GlobalOptions, extra: Partial<ConfigInput> = {}) {
  return loadConfig({
    ...(opts.dataDir && { dataDir: opts.dataDir }),
    ...(opts.databaseUrl && { databaseUrl: opts.databaseUrl }),
    ...extra,
  });
}

/**
 * Opens the database (migrating it), runs `fn`, and always closes. Commands that change data
 * sign an audit checkpoint before closing, so their entries are covered without a running server.
 */
async function withDeps<T>(opts: GlobalOptions, fn: (deps: Deps) => Promise<T>, { readOnly = false } = {}): Promise<T> {
  const { deps, database } = await openDeps(configFrom(opts, { logLevel: 'silent' }));
  try {
    const result = await fn(deps);
    if (!readOnly) await checkpointLogs(deps.db, deps.auditKey, deps.now());
    return result;
  } finally {
    await database.close();
  }
}

function parseOr<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

function printCredentials(credentials: DemoCredential[]) {
  if (credentials.length === 0) return;
  const width = Math.max(...credentials.map((c) => c.email.length));
  console.log('\nDemo accounts (Demo Hospital; fictional people, passwords random per install):');
  for (const c of credentials) console.log(`  ${c.email.padEnd(width)}  ${c.password}  ${c.role}`);
  console.log('First sign-in asks each account to set up an authenticator app (the organisation requires MFA).\n');
}

function printReport(report: VerifyReport) {
  const status = report.ok ? 'OK' : 'FAILED';
  console.log(`${status}  log ${report.logId}: ${report.entries} entries, ${report.checkpoints} signed checkpoints`);
  for (const p of report.problems) console.log(`  [${p.kind}] index ${p.index}: ${p.message}`);
}

export const program = new Command()
  .name('consilium')
  .description('Consilium: secure collaboration for healthcare professionals.')
  .option('--data-dir <dir>', 'data directory (SQLite file, secret key); env CONSILIUM_DATA_DIR', undefined)
  .option('--database-url <url>', 'postgres://... to use PostgreSQL; env DATABASE_URL', undefined)
  .showHelpAfterError();

program
  .command('init')
  .description('create the data directory and database, apply migrations; --demo also seeds Demo Hospital')
  .option('--demo', 'seed the demo organisation', false)
  .action(async (opts: { demo: boolean }) => {
    await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      console.log(`database ready (${deps.dbKind}) in ${deps.config.databaseUrl ? 'PostgreSQL' : deps.config.dataDir}`);
      if (opts.demo) printCredentials((await seedDemo(deps)).credentials);
    });
  });

program
  .command('serve')
  .description('run the server (HTTP API and web app)')
  .option('--demo', 'seed the demo organisation if missing and print its accounts', false)
  .addOption(new Option('--host <host>', 'listen address; env CONSILIUM_HOST'))
  .addOption(new Option('--port <port>', 'listen port; env CONSILIUM_PORT'))
  .action(async (opts: { demo: boolean; host?: string; port?: string }) => {
    const global = program.opts<GlobalOptions>();
    const config = configFrom(global, {
      ...(opts.host && { host: opts.host }),
      ...(opts.port && { port: opts.port as unknown as number }),
      ...(!process.env.CONSILIUM_WEB_DIR && existsSync(bundledWebDir) && { webDir: bundledWebDir }),
      ...(opts.demo && (await demoBackupSettings(configFrom(global)))),
    });
    const server = await startServer(config);
    if (opts.demo) printCredentials((await seedDemo(server.deps)).credentials);
    const publicUrl = new URL(config.publicUrl).origin;
    console.log(`Consilium is running: open ${publicUrl} (listening on ${server.url}; passkeys need the host name ${new URL(publicUrl).hostname})`);
    if (!config.webDir) console.log('(no web build found: API only; run `npm run build` to build the web app)');
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping…`);
      await server.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

const org = program.command('org').description('organisations');

org
  .command('create <name>')
  .description('create an organisation (MFA required, 15-minute idle logoff by default)')
  .option('--no-require-mfa', 'do not require a second factor')
  .option('--idle-minutes <n>', 'automatic logoff after this many idle minutes', '15')
  .action(async (name: string, opts: { requireMfa: boolean; idleMinutes: string }) => {
    await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      const row = await createOrganisation(deps, name, { requireMfa: opts.requireMfa, idleTimeoutMinutes: Number(opts.idleMinutes) });
      console.log(`created organisation "${row.name}" (slug ${row.slug}, id ${row.id})`);
    });
  });

org
  .command('list')
  .description('list organisations')
  .action(async () => {
    await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      for (const o of await listOrganisations(deps.db)) console.log(`${o.slug}\t${o.name}\t${o.id}`);
    }, { readOnly: true });
  });

const user = program.command('user').description('accounts');

user
  .command('create')
  .description('create an account; the password is read from CONSILIUM_PASSWORD or prompted for')
  .requiredOption('--org <slug>', 'organisation slug (see `consilium org list`)')
  .requiredOption('--email <email>', 'sign-in e-mail')
  .requiredOption('--name <name>', 'display name')
  .addOption(new Option('--role <role>', 'role').choices(staffRoles).default('clinician'))
  .action(async (opts: { org: string; email: string; name: string; role: string }) => {
    const email = parseOr(Email, opts.email, 'email');
    const role = parseOr(Role, opts.role, 'role');
    const password = parseOr(NewPassword, process.env.CONSILIUM_PASSWORD ?? (await readSecret('Password (12+ characters): ')), 'password');
    await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      const organisation = await getOrganisationBySlug(deps.db, opts.org);
      if (!organisation) throw new Error(`no organisation with slug "${opts.org}"`);
      const account = await createAccount(deps, systemActor(organisation.id), { organisationId: organisation.id, email, displayName: opts.name, role, departmentId: null, password });
      console.log(`created ${role} ${account.email} (id ${account.id}) in ${organisation.name}`);
    });
  });

user
  .command('reset-mfa <email>')
  .description('remove every second factor of an account (lost phone) and end its sessions')
  .action(async (emailArg: string) => {
    const email = parseOr(Email, emailArg, 'email');
    await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      const account = await getAccountByEmail(deps.db, email);
      if (!account) throw new Error(`no account ${email}`);
      await resetMfa(deps, systemActor(account.organisation_id), account);
      console.log(`second factors of ${email} removed and sessions ended; they set up a new one at next sign-in`);
    });
  });


registerBackupCommands(program);

const audit = program.command('audit').description('the tamper-evident audit log');

audit
  .command('verify')
  .description('recompute every audit log from its entries and check it against every signed checkpoint; exit 1 on any problem')
  .option('--log <id>', 'verify one log (an organisation id, or "deployment")')
  .option('--index', 'also check the search index against the entries (that every entry is findable and every index row says what its entry says)')
  .action(async (opts: { log?: string; index?: boolean }) => {
    const failed = await withDeps(program.opts<GlobalOptions>(), async (deps) => {
      const ids = opts.log ? [opts.log] : await listLogIds(deps.db);
      let bad = 0;
      for (const id of ids) {
        const report = await verifyLog(deps.db, deps.auditKey, id, { index: opts.index === true });
        printReport(report);
        if (!report.ok) bad++;
      }
      if (ids.length === 0) console.log('no audit logs yet');
      return bad;
    }, { readOnly: true });
    if (failed > 0) process.exitCode = 1;
  });
