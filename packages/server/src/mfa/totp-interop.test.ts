import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { ensureOathtool, oathtoolTotp } from '../test-support/oathtool.js';

// Our TOTP against an independent implementation (Debian's oathtool): the secret we hand out
// (base32, and inside the otpauth:// URI) and the codes we accept must be what authenticator
// apps compute (RFC 6238: SHA-1, 6 digits, 30-second steps).

let server: TestServer;
let org: SeededOrg;

beforeAll(async () => {
  ensureOathtool();
  server = await startTestServer();
  org = await seedOrg(server, 'Oath Hospital');
}, 180_000);
afterAll(() => server?.stop());

describe('TOTP interoperability with oathtool', () => {
  let secret: string;

  it('oathtool reproduces the RFC 6238 test vector (the peer itself is right)', () => {
    // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits: 287082.
    // Secret "12345678901234567890" in base32:
    expect(oathtoolTotp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', new Date(59_000))).toBe('287082');
  });

  it('enrols with a code computed by oathtool from the secret the server hands out', async () => {
    const c = server.client();
    expect((await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD })).body.stage).toBe('mfa_setup_required');
    const setup = await c.post('/api/v1/me/mfa/totp/setup');
    expect(setup.status).toBe(200);
    secret = setup.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    // The QR code carries the same secret, with the parameters authenticator apps assume.
    const uri = new URL(setup.body.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    for (const [k, v] of [['algorithm', 'SHA1'], ['digits', '6'], ['period', '30']] as const) {
      const got = uri.searchParams.get(k);
      if (got !== null) expect(got.toUpperCase()).toBe(v);
    }

    // A code from 5 minutes ago (outside the ±1 step window) is refused.
    const stale = oathtoolTotp(secret, new Date(server.clock.now().getTime() - 5 * 60_000));
    expectError(await c.post('/api/v1/me/mfa/totp/confirm', { code: stale }), 'MFA_INVALID_CODE');

    const code = oathtoolTotp(secret, server.clock.now());
    const confirm = await c.post('/api/v1/me/mfa/totp/confirm', { code });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    expect(confirm.body.recoveryCodes).toHaveLength(10);
    expect((await c.get('/api/v1/me')).body.stage).toBe('active');
  });

  it('signs in with a code computed by oathtool', async () => {
    server.clock.advance(30);
    const c = server.client();
    expect((await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD })).body).toEqual({
      stage: 'mfa_required',
      mfaMethods: ['totp', 'recovery_code'],
    });
    const code = oathtoolTotp(secret, server.clock.now());
    const r = await c.post('/api/v1/auth/mfa/totp', { code });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await c.get('/api/v1/me')).body.stage).toBe('active');
  });

  it('accepts a code from one step behind (clock drift), and not the same step twice', async () => {
    server.clock.advance(90);
    const c = server.client();
    await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    const behind = oathtoolTotp(secret, new Date(server.clock.now().getTime() - 30_000));
    expect((await c.post('/api/v1/auth/mfa/totp', { code: behind })).status).toBe(200);

    const again = server.client();
    await again.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expectError(await again.post('/api/v1/auth/mfa/totp', { code: behind }), 'MFA_INVALID_CODE');
  });
});
