import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, signIn, startTestServer, totpNow, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';

// Automatic logoff (HIPAA 164.312(a)(2)(iii)), absolute lifetime, and a user's own session list.
// The server runs on a fake clock; the tests move it.

const COOKIE = '__Host-consilium_session';
const MINUTE = 60;

let server: TestServer;
/** Idle limit 5 minutes. */
let ward: SeededOrg;
/** Idle limit 8 hours, so only the absolute lifetime (1 hour on this server) ends sessions. */
let lab: SeededOrg;
const secrets = new Map<string, string>();

beforeAll(async () => {
  server = await startTestServer({ sessionMaxHours: 1 });
  ward = await seedOrg(server, 'Ward Hospital', { idleTimeoutMinutes: 5 });
  lab = await seedOrg(server, 'Lab Hospital', { idleTimeoutMinutes: 480 });
});
afterAll(() => server?.stop());

/** Signs in with password + TOTP (enrolling the first time). */
async function session(email: string): Promise<TestClient> {
  const s = await signIn(server, email, secrets.get(email));
  secrets.set(email, s.totpSecret);
  return s.client;
}

describe('idle auto-logoff', () => {
  it('keeps a session that is used within the idle limit, and each use restarts the limit', async () => {
    const c = await session(ward.clinician.email);
    expect((await c.get('/api/v1/me')).body.idleTimeoutSeconds).toBe(5 * MINUTE);
    server.clock.advance(4 * MINUTE);
    expect((await c.get('/api/v1/me')).status).toBe(200);
    server.clock.advance(4 * MINUTE);
    // 8 minutes after sign-in, 4 after the last use: still alive because the last use refreshed it.
    expect((await c.get('/api/v1/org')).status).toBe(200);
    server.clock.advance(4 * MINUTE + 59);
    expect((await c.get('/api/v1/me')).status).toBe(200);
  });

  it('ends a session idle for the limit: 401 SESSION_EXPIRED, the cookie is cleared, and it stays ended', async () => {
    const c = await session(ward.clinician.email);
    const token = c.cookies.get(COOKIE)!;
    server.clock.advance(5 * MINUTE + 1);
    const r = await c.get('/api/v1/me');
    expectError(r, 'SESSION_EXPIRED');
    const cleared = r.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`));
    expect(cleared, 'the expired session cookie is cleared').toBeTruthy();
    expect(cleared).toMatch(new RegExp(`^${COOKIE}=;`));
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    // A __Host- cookie is only replaced by one with the same attributes.
    expect(cleared).toMatch(/Path=\//);
    expect(cleared).toMatch(/Secure/);
    expect(c.cookies.has(COOKIE)).toBe(false);

    // The token is dead for good, even if the client keeps using it (it does not "wake up").
    c.cookies.set(COOKIE, token);
    expectError(await c.get('/api/v1/me'), 'UNAUTHENTICATED');
    server.clock.advance(-(5 * MINUTE + 1));
    expectError(await c.get('/api/v1/me'), 'UNAUTHENTICATED');
    server.clock.advance(5 * MINUTE + 1);
  });

  it('applies a lowered idle limit to sessions already open', async () => {
    const admin = await session(ward.admin.email);
    const c = await session(ward.clinician.email);
    expect((await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 2 })).status).toBe(200);
    server.clock.advance(2 * MINUTE + 1);
    expectError(await c.get('/api/v1/me'), 'SESSION_EXPIRED');
    expectError(await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 5 }), 'SESSION_EXPIRED');
    const again = await session(ward.admin.email);
    expect((await again.patch('/api/v1/org/settings', { idleTimeoutMinutes: 5 })).status).toBe(200);
  });
});

describe('absolute lifetime', () => {
  it('ends a session after sessionMaxHours however active it is', async () => {
    const c = await session(lab.clinician.email);
    for (let minutes = 10; minutes <= 50; minutes += 10) {
      server.clock.advance(10 * MINUTE);
      expect((await c.get('/api/v1/me')).status, `after ${minutes} minutes`).toBe(200);
    }
    server.clock.advance(9 * MINUTE);
    expect((await c.get('/api/v1/me')).status, 'after 59 minutes').toBe(200);
    // 60 minutes in: at the limit, though used a minute ago.
    server.clock.advance(MINUTE);
    expectError(await c.get('/api/v1/me'), 'SESSION_EXPIRED');
    expect(c.cookies.has(COOKIE)).toBe(false);
  });
});

describe('the second-factor step', () => {
  it('a password-only session lapses after 10 minutes, even when used', async () => {
    await session(lab.admin.email); // enrols TOTP
    const c = server.client();
    expect((await c.post('/api/v1/auth/sign-in', { email: lab.admin.email, password: PASSWORD })).body.stage).toBe('mfa_required');
    server.clock.advance(9 * MINUTE);
    const me = await c.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.stage).toBe('mfa_required');
    expect(me.body.idleTimeoutSeconds).toBe(10 * MINUTE);
    server.clock.advance(MINUTE);
    const code = await totpNow(server, secrets.get(lab.admin.email)!);
    expectError(await c.post('/api/v1/auth/mfa/totp', { code }), 'SESSION_EXPIRED');
    expect(c.cookies.has(COOKIE)).toBe(false);
  });

  it('a forced-setup session lapses after 10 minutes too', async () => {
    const fresh = await seedOrg(server, 'Setup Clinic');
    const s = server.client();
    expect((await s.post('/api/v1/auth/sign-in', { email: fresh.clinician.email, password: PASSWORD })).body.stage).toBe('mfa_setup_required');
    server.clock.advance(10 * MINUTE);
    expectError(await s.post('/api/v1/me/mfa/totp/setup'), 'SESSION_EXPIRED');
  });

  it('the token from before the second factor stops working once the session is elevated', async () => {
    await session(lab.clinician.email);
    const c = server.client();
    await c.post('/api/v1/auth/sign-in', { email: lab.clinician.email, password: PASSWORD });
    const before = c.cookies.get(COOKIE)!;
    server.clock.advance(30);
    expect((await c.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, secrets.get(lab.clinician.email)!) })).status).toBe(200);
    const after = c.cookies.get(COOKIE)!;
    expect(after).not.toBe(before);
    const stale = server.client();
    stale.cookies.set(COOKIE, before);
    expectError(await stale.get('/api/v1/me'), 'UNAUTHENTICATED');
    expect((await c.get('/api/v1/me')).body.stage).toBe('active');
  });
});

describe("a user's own sessions", () => {
  it('lists live sessions with the current one flagged, and revokes another, which then gets 401', async () => {
    const email = lab.clinician.email;
    const laptop = await session(email);
    const phone = await session(email);
    const list = await laptop.get('/api/v1/me/sessions');
    expect(list.status).toBe(200);
    const sessions: { id: string; current: boolean; createdAt: string; lastSeenAt: string; ipAddress: string | null; userAgent: string | null }[] = list.body.sessions;
    const current = sessions.filter((s) => s.current);
    expect(current).toHaveLength(1);
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    const phoneId = (await phone.get('/api/v1/me/sessions')).body.sessions.find((s: { current: boolean }) => s.current).id;
    expect(phoneId).not.toBe(current[0]!.id);
    expect(sessions.map((s) => s.id)).toContain(phoneId);
    expect(sessions.find((s) => s.id === phoneId)!.ipAddress).toBe('127.0.0.1');

    expect((await laptop.delete(`/api/v1/me/sessions/${phoneId}`)).status).toBe(200);
    expectError(await phone.get('/api/v1/me'), 'UNAUTHENTICATED');
    expect((await laptop.get('/api/v1/me/sessions')).body.sessions.map((s: { id: string }) => s.id)).not.toContain(phoneId);
    expectError(await laptop.delete(`/api/v1/me/sessions/${phoneId}`), 'NOT_FOUND');
    expect((await laptop.get('/api/v1/me')).status).toBe(200);
  });

  it("cannot revoke another user's session (404), which keeps working", async () => {
    const admin = await session(lab.admin.email);
    const clinician = await session(lab.clinician.email);
    const adminSessionId = (await admin.get('/api/v1/me/sessions')).body.sessions.find((s: { current: boolean }) => s.current).id;
    expect((await clinician.get('/api/v1/me/sessions')).body.sessions.map((s: { id: string }) => s.id)).not.toContain(adminSessionId);
    expectError(await clinician.delete(`/api/v1/me/sessions/${adminSessionId}`), 'NOT_FOUND');
    expect((await admin.get('/api/v1/me')).status).toBe(200);
    expect((await admin.get('/api/v1/me/sessions')).body.sessions.map((s: { id: string }) => s.id)).toContain(adminSessionId);
  });

  it('does not list sessions that have ended by signing out or by idling past the limit', async () => {
    const email = ward.admin.email;
    const kept = await session(email);
    const signedOut = await session(email);
    const idle = await session(email);
    const idOf = async (c: TestClient) => (await c.get('/api/v1/me/sessions')).body.sessions.find((s: { current: boolean }) => s.current).id as string;
    const [signedOutId, idleId] = [await idOf(signedOut), await idOf(idle)];
    expect((await signedOut.post('/api/v1/auth/sign-out')).status).toBe(200);
    // Keep one session busy while the other idles past the 5-minute limit.
    for (let i = 0; i < 3; i++) {
      server.clock.advance(2 * MINUTE);
      expect((await kept.get('/api/v1/me')).status).toBe(200);
    }
    const ids = (await kept.get('/api/v1/me/sessions')).body.sessions.map((s: { id: string }) => s.id);
    expect(ids).not.toContain(signedOutId);
    // Idle for 6 minutes: it can no longer be used, so it must not be shown as a live session.
    expect(ids, 'an idle-expired session is listed as live').not.toContain(idleId);
    expectError(await idle.get('/api/v1/me'), 'SESSION_EXPIRED');
  });
});
