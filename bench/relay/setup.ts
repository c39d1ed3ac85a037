/**
 * Puts a real server on loopback and fills it with N devices and their conversations, fast:
 * accounts through the accounts store (or createAccount), sessions through the sessions service
 * (or password sign-in over HTTP), devices through POST /api/v1/devices with real Ed25519 keys,
 * conversations through POST /api/v1/conversations, and the other devices' seats
 * (conversation_device rows) written straight into the database instead of MLS Welcomes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { createDeviceIdentity, type DeviceIdentity } from '@consilium/crypto';
import { loadConfig } from '../../packages/server/src/config.js';
import { startServer, type RunningServer } from '../../packages/server/src/server.js';
import { inTransaction, iso } from '../../packages/server/src/deps.js';
import { createOrganisation } from '../../packages/server/src/orgs/service.js';
import { createAccount } from '../../packages/server/src/accounts/service.js';
import { hashPassword } from '../../packages/server/src/auth/password.js';
import { createSession } from '../../packages/server/src/sessions/service.js';
import { sessionCookieName } from '../../packages/server/src/http/access.js';
import { systemActor } from '../../packages/server/src/audit/record.js';
import type { AccountRow } from '../../packages/server/src/accounts/store.js';

export const PASSWORD = 'relay bench password, never used elsewhere';
const CHUNK = 500;

export interface BenchServer {
  server: RunningServer;
  dbKind: 'sqlite' | 'postgres';
  dataDir: string;
  databaseName: string | null;
  cookieName: string;
  /** Backends of our PostgreSQL database (to read their CPU time); empty on SQLite. */
  backendPids(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startBenchServer(db: 'sqlite' | 'postgres', adminUrl: string, sqliteSynchronous = 'full', natsUrl?: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-relay-bench-'));
  let databaseName: string | null = null;
  let databaseUrl: string | undefined;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  if (db === 'postgres') {
    databaseName = `consilium_relay_bench_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${databaseName}`));
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  }
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, dataDir, logLevel: 'warn', publicUrl: 'http://localhost:8080', ...(databaseUrl && { databaseUrl }), ...(natsUrl && { natsUrl }) },
    {},
  );
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (err) {
    if (databaseName) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (db === 'sqlite' && sqliteSynchronous.toLowerCase() !== 'full') {
    // An experiment, not the shipped setting: one connection, so the pragma holds for every query.
    await sql.raw(`PRAGMA synchronous = ${sqliteSynchronous.toLowerCase() === 'off' ? 'OFF' : 'NORMAL'}`).execute(server.deps.db);
  }
  return {
    server,
    dbKind: db,
    dataDir,
    databaseName,
    cookieName: sessionCookieName(config),
    backendPids: async () =>
      databaseName
        ? admin(async (c) => (await c.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [databaseName])).rows.map((r) => Number(r.pid)))
        : [],
    stop: async () => {
      await server.close();
      if (databaseName) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export interface BenchDevice {
  accountId: string;
  email: string;
  cookie: string;
  identity: DeviceIdentity;
}

async function api(base: string, method: string, url: string, cookie: string | null, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + url, {
    method,
    headers: { ...(cookie && { cookie }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function expectOk(what: string, reply: { status: number; body: unknown }): void {
  if (reply.status !== 200) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
}

export interface SetupOptions {
  devices: number;
  accounts: 'store' | 'service';
  signIn: 'direct' | 'http';
  log(line: string): void;
}

export interface SetupTimings {
  accountsSeconds: number;
  sessionsSeconds: number;
  identitiesSeconds: number;
  devicesSeconds: number;
}

/** N accounts, one signed-in session and one registered MLS device each, in an organisation without MFA. */
export async function setUpDevices(bench: BenchServer, options: SetupOptions): Promise<{ devices: BenchDevice[]; timings: SetupTimings }> {
  const { server } = bench;
  const { deps } = server;
  const org = await createOrganisation(deps, `Relay bench ${randomBytes(3).toString('hex')}`, { requireMfa: false, idleTimeoutMinutes: 480 });
  const emails = Array.from({ length: options.devices }, (_, i) => `device${i}@${org.slug}.test`);
  let t = performance.now();
  const lap = () => {
    const s = (performance.now() - t) / 1000;
    t = performance.now();
    return s;
  };

  let accountIds: string[];
  if (options.accounts === 'service') {
    accountIds = await inParallel(emails, 8, async (email, i) => {
      const a = await createAccount(deps, systemActor(org.id), { organisationId: org.id, email, displayName: `Device ${i}`, role: 'clinician', departmentId: null, password: PASSWORD });
      return a.id;
    });
  } else {
    // One argon2 hash for everyone (a password sign-in still works); rows written in chunks.
    const passwordHash = await hashPassword(PASSWORD);
    const now = iso(deps.now());
    const rows: AccountRow[] = emails.map((email, i) => ({
      id: randomUUID(),
      organisation_id: org.id,
      email,
      display_name: `Device ${i}`,
      role: 'clinician',
      department_id: null,
      status: 'active',
      password_hash: passwordHash,
      verification_level: 'unverified',
      licence_register: null,
      licence_number: null,
      verification_evidence: null,
      verified_by: null,
      verified_at: null,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += CHUNK) {
      await inTransaction(deps, (tx) => tx.db.insertInto('account').values(rows.slice(i, i + CHUNK)).execute());
    }
    accountIds = rows.map((r) => r.id);
  }
  const accountsSeconds = lap();
  options.log(`  ${options.devices} accounts (${options.accounts}) in ${accountsSeconds.toFixed(1)} s`);

  let cookies: string[];
  if (options.signIn === 'http') {
    cookies = await inParallel(emails, 8, async (email) => {
      const r = await api(server.url, 'POST', '/api/v1/auth/sign-in', null, { email, password: PASSWORD });
      expectOk('sign-in', r);
      if (r.body.stage !== 'active') throw new Error(`sign-in stage ${r.body.stage}`);
      const set = r.headers.getSetCookie().find((c) => c.startsWith(`${bench.cookieName}=`));
      if (!set) throw new Error('sign-in set no session cookie');
      return set.split(';')[0]!;
    });
  } else {
    cookies = [];
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const tokens = await inTransaction(deps, async (tx) => {
        const out: string[] = [];
        for (const id of accountIds.slice(i, i + CHUNK)) out.push((await createSession(tx, id, 'active', { ip: '127.0.0.1', userAgent: 'relay-bench' })).token);
        return out;
      });
      cookies.push(...tokens.map((token) => `${bench.cookieName}=${token}`));
    }
  }
  const sessionsSeconds = lap();
  options.log(`  ${options.devices} sessions (${options.signIn === 'http' ? 'password sign-in over HTTP' : 'createSession'}) in ${sessionsSeconds.toFixed(1)} s`);

  const identities: DeviceIdentity[] = [];
  for (const userId of accountIds) identities.push(await createDeviceIdentity({ userId, deviceId: randomUUID() }));
  const identitiesSeconds = lap();

  await inParallel(identities, 16, async (identity, i) => {
    const r = await api(server.url, 'POST', '/api/v1/devices', cookies[i]!, {
      deviceId: identity.deviceId,
      name: `bench ${i}`,
      ciphersuite: 1,
      signaturePublicKey: Buffer.from(identity.signaturePublicKey).toString('base64'),
    });
    expectOk('register device', r);
  });
  const devicesSeconds = lap();
  options.log(`  ${options.devices} devices registered over HTTP in ${devicesSeconds.toFixed(1)} s (identities ${identitiesSeconds.toFixed(1)} s)`);

  return {
    devices: accountIds.map((accountId, i) => ({ accountId, email: emails[i]!, cookie: cookies[i]!, identity: identities[i]! })),
    timings: { accountsSeconds, sessionsSeconds, identitiesSeconds, devicesSeconds },
  };
}

export interface BenchGroup {
  id: string;
  sender: BenchDevice;
  members: BenchDevice[];
}

/**
 * floor(N / G) conversations of G devices each (device i in group floor(i / G)); the first device
 * creates it over HTTP and is its sender; the others' device seats go straight into the database.
 */
export async function setUpGroups(bench: BenchServer, devices: BenchDevice[], size: number): Promise<{ groups: BenchGroup[]; seconds: number }> {
  const started = performance.now();
  const { deps, url } = bench.server;
  const groups: BenchGroup[] = [];
  for (let g = 0; g + size <= devices.length; g += size) {
    const members = devices.slice(g, g + size);
    groups.push({ id: randomUUID(), sender: members[0]!, members });
  }
  await inParallel(groups, 16, async (group) => {
    const r = await api(url, 'POST', '/api/v1/conversations', group.sender.cookie, {
      id: group.id,
      kind: size === 2 ? 'direct' : 'group',
      memberAccountIds: group.members.slice(1).map((m) => m.accountId),
    });
    expectOk('create conversation', r);
  });
  const seats = groups.flatMap((group) =>
    group.members.slice(1).map((m) => ({ conversation_id: group.id, device_id: m.identity.deviceId, account_id: m.accountId, joined_seq: 0, removed_seq: null })),
  );
  for (let i = 0; i < seats.length; i += CHUNK) {
    await inTransaction(deps, (tx) => tx.db.insertInto('conversation_device').values(seats.slice(i, i + CHUNK)).execute());
  }
  return { groups, seconds: (performance.now() - started) / 1000 };
}
