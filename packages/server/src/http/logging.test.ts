import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, startTestServer, totpNow, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { rawRequest } from '../test-support/http.js';
import { captureStdout, type LogCapture } from '../test-support/log-capture.js';

// The server logs every request at info level. Those logs go to operators, log shippers and
// backups: no password, second-factor secret or code, session token or invite token may be in them.

const COOKIE = '__Host-consilium_session';
const INVITEE_PASSWORD = 'invitee passphrase canary 7f3a';
const WRONG_PASSWORD = 'wrong password canary 91c2';

let capture: LogCapture;
let server: TestServer;
let org: SeededOrg;
/** Every secret that crossed the wire during the flows below. */
const secrets = new Map<string, string>();
const codes = new Set<string>();

function remember(what: string, value: string | undefined): void {
  expect(value, what).toBeTruthy();
  secrets.set(`${what} #${secrets.size}`, value!);
}

beforeAll(async () => {
  capture = captureStdout();
  try {
    server = await startTestServer({ logLevel: 'info' });
    org = await seedOrg(server, 'Logging Hospital');
  } catch (err) {
    capture.restore();
    throw err;
  }
});
afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    capture.restore();
  }
});

/** Digits as a whole number in the log (not inside a timestamp or a duration). */
const asWholeNumber = (code: string) => new RegExp(`(?<![0-9])${code}(?![0-9])`);

describe('request logs', () => {
  it('run the flows: sign-in with password and TOTP, an invite created, previewed and accepted', async () => {
    remember('password', PASSWORD);
    remember('wrong password', WRONG_PASSWORD);
    remember('invitee password', INVITEE_PASSWORD);

    // Admin: password, forced TOTP enrolment.
    const admin = server.client();
    await admin.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    remember('pending session token', admin.cookies.get(COOKIE));
    const setup = await admin.post('/api/v1/me/mfa/totp/setup');
    remember('TOTP secret', setup.body.secret);
    remember('otpauth URI', setup.body.otpauthUri);
    const enrolCode = await totpNow(server, setup.body.secret);
    codes.add(enrolCode);
    const confirm = await admin.post('/api/v1/me/mfa/totp/confirm', { code: enrolCode });
    expect(confirm.status).toBe(200);
    for (const rc of confirm.body.recoveryCodes) remember('recovery code', rc);
    remember('active session token', admin.cookies.get(COOKIE));

    // A wrong password, then password + TOTP code.
    expect((await server.client().post('/api/v1/auth/sign-in', { email: org.admin.email, password: WRONG_PASSWORD })).status).toBe(401);
    server.clock.advance(30);
    const again = server.client();
    await again.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    remember('pending session token', again.cookies.get(COOKIE));
    const code = await totpNow(server, setup.body.secret);
    codes.add(code);
    expect((await again.post('/api/v1/auth/mfa/totp', { code })).status).toBe(200);
    remember('active session token', again.cookies.get(COOKIE));
    // A wrong code too (what a user mistypes is close to a real code).
    const wrongCode = code === '123456' ? '654321' : '123456';
    codes.add(wrongCode);
    const pending = server.client();
    await pending.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    expect((await pending.post('/api/v1/auth/mfa/totp', { code: wrongCode })).status).toBe(401);

    // Invite: created, previewed, accepted; the invitee signs in.
    const created = await again.post('/api/v1/org/invites', { email: 'logged.invitee@logging-hospital.test', role: 'clinician' });
    expect(created.status).toBe(200);
    remember('invite token', created.body.token);
    expect((await server.client().get(`/api/v1/invites/${created.body.token}`)).status).toBe(200);
    expect((await server.client().get(`/api/v1/invites/${created.body.token}?utm=mail`)).status).toBe(200);
    // A mangled link: malformed percent-encoding after the token.
    expect((await rawRequest(server.url, { method: 'GET', path: `/api/v1/invites/${created.body.token}%E0%A4%A` })).status).toBe(400);
    const accepted = await server.client().post(`/api/v1/invites/${created.body.token}/accept`, { displayName: 'Logged Invitee', password: INVITEE_PASSWORD });
    expect(accepted.status).toBe(200);
    const invitee = server.client();
    expect((await invitee.post('/api/v1/auth/sign-in', { email: 'logged.invitee@logging-hospital.test', password: INVITEE_PASSWORD })).status).toBe(200);
    remember('invitee session token', invitee.cookies.get(COOKIE));
  });

  it('were captured (so the checks below are not vacuous), with the invite token redacted from URLs', () => {
    const records = capture.records();
    expect(records.length).toBeGreaterThan(10);
    const urls = records.map((r) => (r.req as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls).toContain('/api/v1/auth/sign-in');
    expect(urls).toContain('/api/v1/auth/mfa/totp');
    expect(urls).toContain('/api/v1/invites/[redacted]');
    expect(urls).toContain('/api/v1/invites/[redacted]/accept');
    expect(records.some((r) => (r.res as { statusCode?: number } | undefined)?.statusCode === 401)).toBe(true);
  });

  it('contain no password, TOTP secret or code, recovery code, session token or invite token', () => {
    const text = capture.text();
    expect(secrets.size).toBeGreaterThan(15);
    for (const [what, value] of secrets) {
      expect(text.includes(value), `${what} is in the logs`).toBe(false);
      // Also not in the forms a logger might have re-encoded it to.
      expect(text.includes(encodeURIComponent(value)), `${what} (URL-encoded) is in the logs`).toBe(false);
      expect(text.includes(JSON.stringify(value).slice(1, -1)), `${what} (JSON-escaped) is in the logs`).toBe(false);
    }
    for (const code of codes) expect(text, `TOTP code ${code} is in the logs`).not.toMatch(asWholeNumber(code));
    // No request headers at all (cookies), no bodies.
    expect(text).not.toMatch(/"cookie"|set-cookie|"body"|"password"/i);
    // No query strings either.
    expect(text).not.toContain('utm=mail');
  });

  it('do not contain an invite token sent in a percent-encoded path either', async () => {
    const admin = server.client();
    await admin.post('/api/v1/auth/sign-in', { email: org.admin.email, password: PASSWORD });
    const setupSecret = [...secrets].find(([k]) => k.startsWith('TOTP secret'))![1];
    server.clock.advance(30);
    expect((await admin.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, setupSecret) })).status).toBe(200);
    const invite = await admin.post('/api/v1/org/invites', { email: 'encoded.invitee@logging-hospital.test', role: 'nurse' });
    const token: string = invite.body.token;
    // "%69" is "i": the router decodes it and serves the preview.
    const r = await rawRequest(server.url, { method: 'GET', path: `/api/v1/%69nvites/${token}` });
    expect(r.status).toBe(200);
    expect(capture.text().includes(token), 'the invite token is in the logs').toBe(false);
  });
});
