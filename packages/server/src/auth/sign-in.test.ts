import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, signIn, startTestServer, totpNow, type SeededOrg, type TestServer } from '../test-support/harness.js';

let server: TestServer;
let org: SeededOrg;
let adminSecret: string;

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Sign-in Hospital', { requireMfa: true });
});
afterAll(() => server.stop());

describe('sign-in with password and a second factor', () => {
  it('rejects a wrong password and an unknown e-mail with the same error', async () => {
    const c = server.client();
    const wrong = await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: 'not the password at all' });
    const unknown = await c.post('/api/v1/auth/sign-in', { email: 'nobody@nowhere.test', password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(unknown.body).toEqual(wrong.body);
    expect(c.cookies.size).toBe(0);
  });

  it('forces TOTP setup when the organisation requires MFA, and blocks everything else until then', async () => {
    const c = server.client();
    const r = await c.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ stage: 'mfa_setup_required', mfaMethods: [] });
    const cookie = r.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^__Host-consilium_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Strict/i);

    const blocked = await c.get('/api/v1/org/members');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('MFA_SETUP_REQUIRED');
    const me = await c.get('/api/v1/me');
    expect(me.body.stage).toBe('mfa_setup_required');

    const setup = await c.post('/api/v1/me/mfa/totp/setup');
    expect(setup.status).toBe(200);
    expect(setup.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const bad = await c.post('/api/v1/me/mfa/totp/confirm', { code: '000000' });
    expect(bad.body.error.code).toBe('MFA_INVALID_CODE');
    const oldCookie = c.cookies.get('__Host-consilium_session');
    adminSecret = setup.body.secret;
    const ok = await c.post('/api/v1/me/mfa/totp/confirm', { code: await totpNow(server, setup.body.secret) });
    expect(ok.status).toBe(200);
    expect(ok.body.recoveryCodes).toHaveLength(10);
    // The session token is replaced when the session is elevated.
    expect(c.cookies.get('__Host-consilium_session')).not.toBe(oldCookie);
    expect((await c.get('/api/v1/org/members')).status).toBe(200);
  });

  it('asks for the second factor, refuses a replayed code, accepts a fresh one', async () => {
    const first = await signIn(server, org.clinician.email);
    const c = server.client();
    const r = await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect(r.body).toEqual({ stage: 'mfa_required', mfaMethods: ['totp', 'recovery_code'] });
    expect((await c.get('/api/v1/me/sessions')).body.error.code).toBe('MFA_REQUIRED');

    // The code used to confirm enrolment is in the same time step: replay is refused.
    const replay = await c.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, first.totpSecret) });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('MFA_INVALID_CODE');

    server.clock.advance(30);
    const code = await totpNow(server, first.totpSecret);
    expect((await c.post('/api/v1/auth/mfa/totp', { code })).status).toBe(200);
    const me = await c.get('/api/v1/me');
    expect(me.body.stage).toBe('active');
    expect(me.body.account.email).toBe(org.clinician.email);

    // The same code, again, in another session: refused.
    const other = server.client();
    await other.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect((await other.post('/api/v1/auth/mfa/totp', { code })).body.error.code).toBe('MFA_INVALID_CODE');

    // A recovery code works once.
    const recovery = first.recoveryCodes[0]!;
    expect((await other.post('/api/v1/auth/mfa/recovery-code', { code: recovery.toUpperCase() })).status).toBe(200);
    const again = server.client();
    await again.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect((await again.post('/api/v1/auth/mfa/recovery-code', { code: recovery })).body.error.code).toBe('MFA_INVALID_CODE');
  });

  it('signs out: the cookie stops working', async () => {
    const { client } = await signIn(server, org.admin.email, adminSecret);
    expect((await client.get('/api/v1/me')).status).toBe(200);
    const token = client.cookies.get('__Host-consilium_session');
    expect((await client.post('/api/v1/auth/sign-out')).status).toBe(200);
    client.cookies.set('__Host-consilium_session', token!);
    const after = await client.get('/api/v1/me');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
  });
});
