import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, startTestServer, totpNow, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { SoftAuthenticator, tamperSignature, type AuthenticationResponseJSON } from '../test-support/soft-authenticator.js';

// Passkeys end to end with a software authenticator (ES256, "none" attestation) against the
// server's real WebAuthn verification. The server's public URL is http://localhost:8080, so the
// RP ID is "localhost" and that is the only origin it accepts.

const COOKIE = '__Host-consilium_session';

let server: TestServer;
let org: SeededOrg;
const laptop = new SoftAuthenticator();
let passkeyId: string;
let recoveryCodes: string[];

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Passkey Hospital');
});
afterAll(() => server?.stop());

async function passwordOnly(email = org.clinician.email): Promise<TestClient> {
  const c = server.client();
  const r = await c.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return c;
}

async function assertionOptions(c: TestClient) {
  const r = await c.post('/api/v1/auth/mfa/passkey/options');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { challenge: string; rpId: string; allowCredentials: { id: string }[] };
}

/** A refused second factor: 401 with one of the two codes the server uses for it. */
function expectRefused(r: { status: number; body: any }): void {
  expect(r.status, JSON.stringify(r.body)).toBe(401);
  expect(['MFA_INVALID_CODE', 'PASSKEY_VERIFICATION_FAILED']).toContain(r.body.error.code);
  expectError(r, r.body.error.code);
}

describe('passkey enrolment during forced setup', () => {
  it('registers a passkey: the session becomes active and recovery codes are returned', async () => {
    const c = await passwordOnly();
    expect((await c.get('/api/v1/me')).body.stage).toBe('mfa_setup_required');
    const before = c.cookies.get(COOKIE);

    const options = await c.post('/api/v1/me/passkeys/options');
    expect(options.status).toBe(200);
    expect(options.body.rp).toEqual({ id: 'localhost', name: 'Consilium' });
    expect(options.body.user.name).toBe(org.clinician.email);
    expect(options.body.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toContain(-7);
    expect(options.body.challenge).toMatch(/^[A-Za-z0-9_-]{16,}$/);

    const r = await c.post('/api/v1/me/passkeys', { name: 'Work laptop', response: laptop.createCredential(options.body) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    recoveryCodes = r.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(c.cookies.get(COOKIE)).not.toBe(before);

    const me = await c.get('/api/v1/me');
    expect(me.body.stage).toBe('active');
    expect(me.body.mfa).toEqual({ totp: false, passkeys: 1, recoveryCodesLeft: 10 });
    const list = await c.get('/api/v1/me/passkeys');
    expect(list.body.passkeys).toEqual([{ id: expect.any(String), name: 'Work laptop', createdAt: server.clock.now().toISOString(), lastUsedAt: null }]);
    passkeyId = list.body.passkeys[0].id;
  });

  it('refuses a registration from the wrong origin, for another RP ID, or without a challenge it issued', async () => {
    const fresh = await seedOrg(server, 'Passkey Clinic');
    const c = await passwordOnly(fresh.clinician.email);
    const phone = new SoftAuthenticator();
    for (const overrides of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }, { challenge: Buffer.from('made up').toString('base64url') }, { type: 'webauthn.get' }]) {
      const options = await c.post('/api/v1/me/passkeys/options');
      const r = await c.post('/api/v1/me/passkeys', { name: 'Phone', response: phone.createCredential(options.body, overrides) });
      expectError(r, 'PASSKEY_VERIFICATION_FAILED');
    }
    // No challenge pending at all.
    expectError(await c.post('/api/v1/me/passkeys', { name: 'Phone', response: phone.createCredential({ challenge: 'AAAA' }) }), 'PASSKEY_VERIFICATION_FAILED');
    expect((await c.get('/api/v1/me')).body.stage).toBe('mfa_setup_required');
    expect((await c.get('/api/v1/me')).body.mfa.passkeys).toBe(0);
  });

  it('refuses to register a credential that is already registered with a 4xx (not a 500)', async () => {
    // A browser honours excludeCredentials; a scripted client need not.
    const c = await passwordOnly();
    const options = await assertionOptions(c);
    const ok = await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(options) });
    expect(ok.status).toBe(200);
    const reg = await c.post('/api/v1/me/passkeys/options');
    expect(reg.body.excludeCredentials.map((x: { id: string }) => x.id)).toContain(laptop.id);
    const r = await c.post('/api/v1/me/passkeys', { name: 'Same laptop again', response: laptop.createCredential(reg.body) });
    expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    expectError(r, r.body.error.code);
    expect((await c.get('/api/v1/me/passkeys')).body.passkeys).toHaveLength(1);
  });
});

describe('sign-in with password and passkey', () => {
  let used: AuthenticationResponseJSON;
  let usedChallenge: string;

  it('signs in with the passkey as second factor', async () => {
    const c = await passwordOnly();
    const me = await c.get('/api/v1/me');
    expect(me.body.stage).toBe('mfa_required');
    const signInAgain = await server.client().post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect(signInAgain.body).toEqual({ stage: 'mfa_required', mfaMethods: ['passkey', 'recovery_code'] });

    const options = await assertionOptions(c);
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials.map((x) => x.id)).toEqual([laptop.id]);
    used = laptop.getAssertion(options);
    usedChallenge = options.challenge;
    const r = await c.post('/api/v1/auth/mfa/passkey', { response: used });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await c.get('/api/v1/me')).body.stage).toBe('active');
    expect((await c.get('/api/v1/me/passkeys')).body.passkeys[0].lastUsedAt).toBe(server.clock.now().toISOString());
  });

  it('refuses a tampered signature and an assertion made for another origin or RP ID', async () => {
    const c = await passwordOnly();
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: tamperSignature(laptop.getAssertion(await assertionOptions(c))) }));
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c), { origin: 'https://evil.example' }) }));
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c), { rpId: 'evil.example' }) }));
    expect((await c.get('/api/v1/me')).body.stage).toBe('mfa_required');
    // Control: the same authenticator, untouched, gets in (and clears the failure count).
    expect((await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c)) })).status).toBe(200);
  });

  it('refuses a replayed assertion, and any assertion over a challenge already used', async () => {
    // The used assertion, in a new session, with no challenge pending.
    const a = await passwordOnly();
    expectRefused(await a.post('/api/v1/auth/mfa/passkey', { response: used }));
    // ... and with a fresh challenge pending.
    await assertionOptions(a);
    expectRefused(await a.post('/api/v1/auth/mfa/passkey', { response: used }));
    // A freshly signed assertion (newer counter) over the old challenge.
    const b = await passwordOnly();
    await assertionOptions(b);
    expectRefused(await b.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion({ challenge: usedChallenge }) }));
    // A challenge is spent by a failed attempt too: a valid assertion over it is refused.
    const c = await passwordOnly();
    const options = await assertionOptions(c);
    const good = laptop.getAssertion(options);
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: tamperSignature(good) }));
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: good }));
    expect((await c.get('/api/v1/me')).body.stage).toBe('mfa_required');
    expect((await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c)) })).status).toBe(200);
  });

  it('refuses an assertion over a challenge older than its 5-minute lifetime', async () => {
    const c = await passwordOnly();
    const options = await assertionOptions(c);
    server.clock.advance(5 * 60);
    expectRefused(await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(options) }));
    expect((await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c)) })).status).toBe(200);
  });

  it('a recovery code still works instead of the passkey', async () => {
    const c = await passwordOnly();
    expect((await c.post('/api/v1/auth/mfa/recovery-code', { code: recoveryCodes[0] })).status).toBe(200);
    expect((await c.get('/api/v1/me')).body.mfa.recoveryCodesLeft).toBe(9);
  });
});

describe('removing factors when the organisation requires MFA', () => {
  it('refuses to remove the last factor (403 FORBIDDEN), allows it once another factor exists', async () => {
    const c = await passwordOnly();
    expect((await c.post('/api/v1/auth/mfa/passkey', { response: laptop.getAssertion(await assertionOptions(c)) })).status).toBe(200);

    expectError(await c.delete(`/api/v1/me/passkeys/${passkeyId}`), 'FORBIDDEN');
    expect((await c.get('/api/v1/me/passkeys')).body.passkeys).toHaveLength(1);

    // Add an authenticator app; then the passkey may go, and the app becomes the last factor.
    const setup = await c.post('/api/v1/me/mfa/totp/setup');
    server.clock.advance(30);
    const confirm = await c.post('/api/v1/me/mfa/totp/confirm', { code: await totpNow(server, setup.body.secret) });
    expect(confirm.status).toBe(200);
    // Recovery codes already exist: none are re-issued.
    expect(confirm.body.recoveryCodes).toEqual([]);
    expect((await c.delete(`/api/v1/me/passkeys/${passkeyId}`)).status).toBe(200);
    expectError(await c.delete('/api/v1/me/mfa/totp'), 'FORBIDDEN');
    expect((await c.get('/api/v1/me')).body.mfa).toMatchObject({ totp: true, passkeys: 0 });

    const again = await passwordOnly();
    expect((await again.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD })).body.mfaMethods).toEqual(['totp', 'recovery_code']);
  });
});
