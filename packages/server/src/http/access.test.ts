import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDeps } from '../server.js';
import { PASSWORD, seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError, rawRequest } from '../test-support/http.js';
import { fetchOpenApi, operations, type Operation } from '../test-support/openapi.js';

// The access matrix, derived from the OpenAPI document so a new route is covered the day it is
// added: what is public is listed here by hand, everything else must demand a session.

const PUBLIC = new Set([
  'GET /api/v1/health',
  'POST /api/v1/auth/sign-in',
  'GET /api/v1/invites/{token}',
  'POST /api/v1/invites/{token}/accept',
  'GET /api/v1/patient-invites/{token}',
  'POST /api/v1/patient-invites/{token}/accept',
]);
/** Any live session, whatever its stage. */
const ANY_SESSION = new Set(['GET /api/v1/me', 'POST /api/v1/auth/sign-out']);
/** Only while the second factor is awaited. */
const MFA_PENDING = new Set([
  'POST /api/v1/auth/mfa/totp',
  'POST /api/v1/auth/mfa/recovery-code',
  'POST /api/v1/auth/mfa/passkey/options',
  'POST /api/v1/auth/mfa/passkey',
]);
/** Adding a factor: allowed in forced setup and when fully signed in, never on a password alone. */
const ENROLMENT = new Set(['POST /api/v1/me/mfa/totp/setup', 'POST /api/v1/me/mfa/totp/confirm', 'POST /api/v1/me/passkeys/options', 'POST /api/v1/me/passkeys']);
/** The org routes any member may read; every other /org route is the admin console. */
const ORG_FOR_MEMBERS = new Set(['GET /api/v1/org', 'GET /api/v1/org/departments', 'GET /api/v1/org/case-policy']);
const isAdminRoute = (op: Operation) => op.path.startsWith('/api/v1/org') && !ORG_FOR_MEMBERS.has(op.key);

let server: TestServer;
let org: SeededOrg;
let ops: Operation[];
let clinician: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Access Hospital');
  ops = operations(await fetchOpenApi(server.client()));
  clinician = (await signIn(server, org.clinician.email)).client;
});
afterAll(() => server?.stop());

const call = (client: TestClient, op: Operation) => client.request(op.method, op.url, op.method === 'GET' || op.method === 'DELETE' ? undefined : {});

describe('every route declares its access', () => {
  it('the document lists every route family (sanity check of the matrix below)', () => {
    expect(ops.length).toBeGreaterThanOrEqual(29);
    for (const key of [...PUBLIC, ...ANY_SESSION, ...MFA_PENDING, ...ENROLMENT, ...ORG_FOR_MEMBERS]) {
      expect(ops.map((o) => o.key), `${key} is no longer in the document: update this test`).toContain(key);
    }
    expect(ops.filter(isAdminRoute).length).toBeGreaterThanOrEqual(11);
  });

  it('start-up refuses an /api route that declares no access level', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'consilium-access-'));
    const { deps, database } = await openDeps(loadConfig({ dataDir, logLevel: 'silent' }, {}));
    const app = await buildApp(deps);
    try {
      expect(() => app.get('/api/v1/forgot-to-decide', async () => ({ secret: true }))).toThrow(/declares no access level/);
      expect(() => app.get('/api/v1/decided', { config: { access: 'member' } }, async () => ({}))).not.toThrow();
    } finally {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('without a session, every non-public route answers 401 UNAUTHENTICATED', async () => {
    const c = server.client();
    const protectedOps = ops.filter((o) => !PUBLIC.has(o.key));
    expect(protectedOps.length).toBeGreaterThan(20);
    for (const op of protectedOps) {
      const r = await call(c, op);
      expect(r.status, op.key).toBe(401);
      expectError(r, 'UNAUTHENTICATED');
    }
  });

  it('a forged, or a signed-out, session cookie is no session either', async () => {
    const forged = server.client();
    forged.cookies.set('__Host-consilium_session', 'A'.repeat(43));
    const signedOut = server.client();
    const r = await signedOut.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    expect(r.status).toBe(200);
    const token = signedOut.cookies.get('__Host-consilium_session')!;
    expect((await signedOut.post('/api/v1/auth/sign-out')).status).toBe(200);
    signedOut.cookies.set('__Host-consilium_session', token);
    for (const op of ops.filter((o) => !PUBLIC.has(o.key))) {
      expectError(await call(forged, op), 'UNAUTHENTICATED');
      expectError(await call(signedOut, op), 'UNAUTHENTICATED');
    }
  });

  it('public routes answer without a session (and say something other than 401 UNAUTHENTICATED)', async () => {
    const c = server.client();
    for (const op of ops.filter((o) => PUBLIC.has(o.key))) {
      const r = await call(c, op);
      expect(r.body?.error?.code, op.key).not.toBe('UNAUTHENTICATED');
    }
  });

  it('a percent-encoded /api prefix does not skip the access check', async () => {
    // find-my-way decodes "%61pi" to "api" before routing, so these reach the real routes; the
    // access hook must judge the matched route, not the spelling of the URL.
    for (const op of ops.filter((o) => !PUBLIC.has(o.key))) {
      const r = await rawRequest(server.url, {
        method: op.method,
        path: op.url.replace('/api/', '/%61pi/'),
        headers: op.method === 'GET' || op.method === 'DELETE' ? {} : { 'content-type': 'application/json' },
        chunks: op.method === 'GET' || op.method === 'DELETE' ? [] : ['{}'],
      });
      expect(['UNAUTHENTICATED', 'NOT_FOUND', 'BAD_REQUEST'], `${op.key}: ${r.status} ${r.text}`).toContain(r.body?.error?.code);
    }
  });
});

describe('roles', () => {
  it('a clinician gets 403 FORBIDDEN on every admin route, and nothing changes', async () => {
    const adminOps = ops.filter(isAdminRoute);
    for (const op of adminOps) {
      const r = await call(clinician, op);
      expectError(r, 'FORBIDDEN');
    }
    // Also with a body that would be valid for an admin.
    expectError(await clinician.patch('/api/v1/org/settings', { idleTimeoutMinutes: 1 }), 'FORBIDDEN');
    expectError(await clinician.patch(`/api/v1/org/members/${org.clinician.id}`, { role: 'admin' }), 'FORBIDDEN');
    expectError(await clinician.post('/api/v1/org/invites', { email: 'friend@elsewhere.test', role: 'admin' }), 'FORBIDDEN');
    const org1 = await clinician.get('/api/v1/org');
    expect(org1.status).toBe(200);
    expect(org1.body.settings.idleTimeoutMinutes).toBe(15);
    expect((await clinician.get('/api/v1/me')).body.account.role).toBe('clinician');
  });

  it('a clinician may read the organisation and its departments (control)', async () => {
    for (const key of ORG_FOR_MEMBERS) {
      const op = ops.find((o) => o.key === key)!;
      expect((await call(clinician, op)).status, key).toBe(200);
    }
  });
});

describe('session stages', () => {
  it('a password-only session (second factor pending) reaches only sign-out, /me and the second-factor routes', async () => {
    const pending = server.client();
    const r = await pending.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect(r.body.stage).toBe('mfa_required');
    const denied = ops.filter((o) => !PUBLIC.has(o.key) && !ANY_SESSION.has(o.key) && !MFA_PENDING.has(o.key));
    // Adding a new factor on a password alone would bypass the second factor.
    for (const key of ENROLMENT) expect(denied.map((o) => o.key)).toContain(key);
    for (const op of denied) expectError(await call(pending, op), 'MFA_REQUIRED');
    expect((await pending.get('/api/v1/me')).body.stage).toBe('mfa_required');
  });

  it('a session in forced MFA setup reaches only sign-out, /me and enrolment', async () => {
    const setup = server.client();
    const r = await setup.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    expect(r.body.stage).toBe('mfa_setup_required');
    const denied = ops.filter((o) => !PUBLIC.has(o.key) && !ANY_SESSION.has(o.key) && !ENROLMENT.has(o.key));
    for (const op of denied) expectError(await call(setup, op), 'MFA_SETUP_REQUIRED');
    // Control: enrolment is open to it.
    expect((await setup.post('/api/v1/me/mfa/totp/setup')).status).toBe(200);
  });
});
