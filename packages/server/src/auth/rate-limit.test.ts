import { generate } from 'otplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, signIn, startTestServer, totpNow, type Reply, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';

// Sign-in throttling: failures of either factor count against the account and the address;
// while throttled even the right password is refused, so the limit is no oracle.

const SIGN_IN = '/api/v1/auth/sign-in';
const WINDOW = 15 * 60;
const WRONG = 'not the right password';

let server: TestServer;
let ipLimited: TestServer;
let org: SeededOrg;
let org2: SeededOrg;

beforeAll(async () => {
  [server, ipLimited] = await Promise.all([
    startTestServer(),
    startTestServer({ signIn: { maxFailuresPerIp: 3, windowMinutes: 15, maxFailuresPerAccount: 100 } }),
  ]);
  org = await seedOrg(server, 'Throttle Hospital');
  org2 = await seedOrg(server, 'Second Throttle Hospital');
});
afterAll(async () => {
  await Promise.all([server?.stop(), ipLimited?.stop()]);
});
// Each test starts in a fresh window, so the address limit (30) is never reached by accident.
beforeEach(() => {
  server.clock.advance(WINDOW + 60);
  ipLimited.clock.advance(WINDOW + 60);
});

function expectRateLimited(r: Reply, maxSeconds = WINDOW): number {
  expectError(r, 'RATE_LIMITED');
  const retryAfter = r.body.error.retryAfterSeconds as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(r.headers.get('retry-after')).toBe(String(retryAfter));
  expect(r.headers.getSetCookie()).toEqual([]);
  return retryAfter;
}

/** Six-digit codes that are not valid for this secret at the server's clock (one step either side). */
async function wrongCodes(s: TestServer, secret: string, n: number): Promise<string[]> {
  const epoch = Math.floor(s.clock.now().getTime() / 1000);
  const valid = new Set(await Promise.all([-30, 0, 30].map((d) => generate({ secret, epoch: epoch + d }))));
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const code = String(111111 * ((i % 9) + 1) + Math.floor(i / 9)).padStart(6, '0').slice(0, 6);
    if (!valid.has(code) && !out.includes(code)) out.push(code);
  }
  return out;
}

describe('per account', () => {
  it('after 5 wrong passwords, the 6th attempt is 429 even with the right password; Retry-After is honest', async () => {
    const c = server.client();
    const email = org.clinician.email;
    for (let i = 0; i < 5; i++) {
      // Case does not make a different account.
      const r = await c.post(SIGN_IN, { email: i % 2 ? email.toUpperCase() : email, password: WRONG });
      expectError(r, 'INVALID_CREDENTIALS');
      server.clock.advance(60);
    }
    // Failures at t0 .. t0+4 min, now t0+5 min: the oldest leaves the window at t0+15 min.
    const right = await c.post(SIGN_IN, { email, password: PASSWORD });
    expect(expectRateLimited(right)).toBe(10 * 60);
    expect(c.cookies.size).toBe(0);
    // A wrong password while throttled is answered the same way (no oracle).
    const wrong = await c.post(SIGN_IN, { email, password: WRONG });
    expectRateLimited(wrong);
    expect(wrong.body).toEqual(right.body);

    // One second short of Retry-After: still throttled. At Retry-After: the right password works.
    server.clock.advance(10 * 60 - 1);
    expectRateLimited(await c.post(SIGN_IN, { email, password: PASSWORD }));
    server.clock.advance(1);
    const ok = await c.post(SIGN_IN, { email, password: PASSWORD });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });

  it('throttles an unknown e-mail the same way, so the limit reveals nothing about which accounts exist', async () => {
    const c = server.client();
    for (let i = 0; i < 5; i++) expectError(await c.post(SIGN_IN, { email: 'ghost@nowhere.test', password: WRONG }), 'INVALID_CREDENTIALS');
    expectRateLimited(await c.post(SIGN_IN, { email: 'ghost@nowhere.test', password: WRONG }));
  });

  it('locks only that account: another account from the same address still signs in', async () => {
    const c = server.client();
    for (let i = 0; i < 5; i++) await c.post(SIGN_IN, { email: org2.clinician.email, password: WRONG });
    expectRateLimited(await c.post(SIGN_IN, { email: org2.clinician.email, password: PASSWORD }));
    expect((await server.client().post(SIGN_IN, { email: org2.admin.email, password: PASSWORD })).status).toBe(200);
  });

  it('a full sign-in (password and second factor) clears the account’s failures', async () => {
    const email = org2.admin.email;
    const { totpSecret } = await signIn(server, email);
    const c = server.client();
    for (let i = 0; i < 4; i++) expectError(await c.post(SIGN_IN, { email, password: WRONG }), 'INVALID_CREDENTIALS');
    await signIn(server, email, totpSecret);
    for (let i = 0; i < 4; i++) expectError(await c.post(SIGN_IN, { email, password: WRONG }), 'INVALID_CREDENTIALS');
    expect((await c.post(SIGN_IN, { email, password: PASSWORD })).status).toBe(200);
  });
});

describe('second factors count too', () => {
  let secret: string;
  beforeAll(async () => {
    secret = (await signIn(server, org.admin.email)).totpSecret;
  });

  async function pending(): Promise<TestClient> {
    const c = server.client();
    const r = await c.post(SIGN_IN, { email: org.admin.email, password: PASSWORD });
    expect(r.body.stage).toBe('mfa_required');
    return c;
  }

  it('after 5 wrong TOTP codes, the right code is 429, and so is the right password', async () => {
    const c = await pending();
    for (const code of await wrongCodes(server, secret, 5)) expectError(await c.post('/api/v1/auth/mfa/totp', { code }), 'MFA_INVALID_CODE');
    server.clock.advance(30);
    expectRateLimited(await c.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, secret) }));
    expectRateLimited(await server.client().post(SIGN_IN, { email: org.admin.email, password: PASSWORD }));
    expect((await c.get('/api/v1/me')).body.stage).toBe('mfa_required');

    server.clock.advance(WINDOW);
    await signIn(server, org.admin.email, secret);
  });

  it('a right password does not reset the count of wrong codes (a password thief cannot buy more guesses)', async () => {
    let c = await pending();
    for (const code of await wrongCodes(server, secret, 4)) expectError(await c.post('/api/v1/auth/mfa/totp', { code }), 'MFA_INVALID_CODE');
    c = await pending();
    const [code] = await wrongCodes(server, secret, 1);
    expectError(await c.post('/api/v1/auth/mfa/totp', { code }), 'MFA_INVALID_CODE');
    server.clock.advance(30);
    expectRateLimited(await c.post('/api/v1/auth/mfa/totp', { code: await totpNow(server, secret) }));
  });

  it('wrong recovery codes count as well', async () => {
    const c = await pending();
    for (let i = 0; i < 5; i++) expectError(await c.post('/api/v1/auth/mfa/recovery-code', { code: `abcde-fgh${i + 2}k` }), 'MFA_INVALID_CODE');
    expectRateLimited(await c.post('/api/v1/auth/mfa/recovery-code', { code: 'abcde-fghjk' }));
  });
});

describe('per address', () => {
  it('counts failures across different e-mails from one address; then even a right password elsewhere is 429', async () => {
    const o = await seedOrg(ipLimited, 'Address Hospital');
    const c = ipLimited.client();
    for (const email of ['one@nowhere.test', 'two@nowhere.test', o.clinician.email]) {
      expectError(await c.post(SIGN_IN, { email, password: WRONG }), 'INVALID_CREDENTIALS');
    }
    const r = await c.post(SIGN_IN, { email: o.admin.email, password: PASSWORD });
    expect(expectRateLimited(r)).toBe(WINDOW);
    expect(r.body.error.message).toMatch(/address/);

    // X-Forwarded-For is not trusted (trustProxy is off): a forged address does not escape.
    const forged = await c.request('POST', SIGN_IN, { email: o.admin.email, password: PASSWORD }, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expectRateLimited(forged);

    ipLimited.clock.advance(WINDOW);
    expect((await c.post(SIGN_IN, { email: o.admin.email, password: PASSWORD })).status).toBe(200);
  });
});
