import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generate } from 'otplib';
import { loadConfig, type ConfigInput } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { createOrganisation } from '../orgs/service.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import type { Role } from '@consilium/protocol';

/** A clock tests move by hand (idle logoff, invite expiry, TOTP steps). */
export class TestClock {
  private t: number;
  constructor(start = Date.parse('2026-11-23T09:00:00.000Z')) {
    this.t = start;
  }
  now = (): Date => new Date(this.t);
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export interface TestServer extends RunningServer {
  clock: TestClock;
  /** Where this server keeps its SQLite file, keys and blobs. */
  dataDir: string;
  /** The PostgreSQL database it uses, when CONSILIUM_TEST_PG is set. */
  databaseUrl: string | undefined;
  client(): TestClient;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /**
   * Start on the storage (data dir, PostgreSQL database, clock) of an earlier server, as a
   * restart after a crash would. This server's stop() leaves that storage in place: the earlier
   * server's stop() removes it.
   */
  storageOf?: TestServer;
}

/** PostgreSQL runs when CONSILIUM_TEST_PG holds a URL to a server where we may CREATE DATABASE. */
export const testPgUrl = process.env.CONSILIUM_TEST_PG;

async function freshPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `consilium_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A real server on an ephemeral port with a fresh database (SQLite file, or a new PostgreSQL database). */
export async function startTestServer(overrides: Partial<ConfigInput> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const reused = options.storageOf;
  const dataDir = reused ? reused.dataDir : mkdtempSync(path.join(tmpdir(), 'consilium-test-'));
  const pgDb = reused ? (reused.databaseUrl ? { url: reused.databaseUrl, drop: async () => {} } : null) : testPgUrl ? await freshPostgresDatabase(testPgUrl) : null;
  const clock = reused ? reused.clock : new TestClock();
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: 'silent',
      publicUrl: 'http://localhost:8080',
      ...(pgDb && { databaseUrl: pgDb.url }),
      ...overrides,
    },
    {},
  );
  const server = await startServer(config, { now: clock.now });
  return {
    ...server,
    clock,
    dataDir,
    databaseUrl: pgDb?.url,
    client: () => new TestClient(server.url),
    stop: async () => {
      await server.close();
      if (reused) return;
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** fetch with one cookie jar: what a browser tab would send. */
export class TestClient {
  cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, url: string, body?: unknown, init: { headers?: Record<string, string>; raw?: string } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined = init.raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    } else if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.baseUrl + url, { method, headers, body: payload });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get<T = any>(url: string) {
    return this.request<T>('GET', url);
  }
  post<T = any>(url: string, body: unknown = {}) {
    return this.request<T>('POST', url, body);
  }
  patch<T = any>(url: string, body: unknown) {
    return this.request<T>('PATCH', url, body);
  }
  put<T = any>(url: string, body: unknown) {
    return this.request<T>('PUT', url, body);
  }
  delete<T = any>(url: string) {
    return this.request<T>('DELETE', url);
  }
}

export const PASSWORD = 'correct horse battery staple';

export interface SeededOrg {
  id: string;
  name: string;
  admin: { id: string; email: string };
  clinician: { id: string; email: string };
}

/** An organisation with one admin and one clinician, all with PASSWORD. */
export async function seedOrg(server: TestServer, name: string, settings: { requireMfa?: boolean; idleTimeoutMinutes?: number } = {}): Promise<SeededOrg> {
  const org = await createOrganisation(server.deps, name, settings);
  const slug = org.slug;
  const mk = async (local: string, role: Role) => {
    const a = await createAccount(server.deps, systemActor(org.id), {
      organisationId: org.id,
      email: `${local}@${slug}.test`,
      displayName: `${local} of ${name}`,
      role,
      departmentId: null,
      password: PASSWORD,
    });
    return { id: a.id, email: a.email };
  };
  return { id: org.id, name, admin: await mk('admin', 'admin'), clinician: await mk('clinician', 'clinician') };
}

export function totpNow(server: TestServer, secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(server.clock.now().getTime() / 1000) });
}

/**
 * Signs in a fresh client with password and TOTP. The first time, enrols TOTP (the organisation
 * requires it); returns the secret so later sign-ins can make codes.
 */
export async function signIn(server: TestServer, email: string, totpSecret?: string): Promise<{ client: TestClient; totpSecret: string; recoveryCodes: string[] }> {
  const client = server.client();
  const first = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  if (first.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(first.body)}`);
  if (first.body.stage === 'mfa_required') {
    if (!totpSecret) throw new Error('account has MFA; pass its secret');
    server.clock.advance(30); // a new time step: codes are single-use
    const r = await client.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, totpSecret) });
    if (r.status !== 200) throw new Error(`totp failed: ${JSON.stringify(r.body)}`);
    return { client, totpSecret, recoveryCodes: [] };
  }
  const setup = await client.post('/api/v1/me/mfa/totp/setup');
  const secret: string = setup.body.secret;
  const confirm = await client.post('/api/v1/me/mfa/totp/confirm', { code: await totpNow(server, secret) });
  if (confirm.status !== 200) throw new Error(`totp confirm failed: ${JSON.stringify(confirm.body)}`);
  return { client, totpSecret: secret, recoveryCodes: confirm.body.recoveryCodes };
}
