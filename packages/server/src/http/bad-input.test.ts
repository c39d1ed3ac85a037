import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError, rawRequest, randomId } from '../test-support/http.js';

// Whatever a client sends, it gets the one error shape with the right 4xx status: never a 500,
// never a stack, never Fastify's own error body.

let server: TestServer;
let small: TestServer;
let org: SeededOrg;
let admin: TestClient;

const SIGN_IN = '/api/v1/auth/sign-in';

beforeAll(async () => {
  [server, small] = await Promise.all([startTestServer(), startTestServer({ bodyLimitBytes: 2048 })]);
  org = await seedOrg(server, 'Bad Input Hospital');
  admin = (await signIn(server, org.admin.email)).client;
});
afterAll(async () => {
  await Promise.all([server?.stop(), small?.stop()]);
});

const sendRaw = (client: TestClient, method: string, url: string, raw: string, contentType = 'application/json') =>
  client.request(method, url, undefined, { raw, headers: { 'content-type': contentType } });

describe('JSON bodies', () => {
  it('accepts a well-formed body (control), with or without a charset parameter', async () => {
    const c = server.client();
    const r = await sendRaw(c, 'POST', SIGN_IN, JSON.stringify({ email: 'nobody@nowhere.test', password: 'wrong password' }), 'application/json; charset=utf-8');
    expectError(r, 'INVALID_CREDENTIALS');
  });

  it('refuses malformed JSON with 400 MALFORMED_JSON', async () => {
    const c = server.client();
    for (const raw of ['{"email": "a@b.test", ', '{email: "a@b.test"}', "{'email':'a@b.test'}", '{"a":1}}', 'nul', '{"a":01}']) {
      expectError(await sendRaw(c, 'POST', SIGN_IN, raw), 'MALFORMED_JSON');
    }
  });

  it('refuses an empty body sent as JSON with 400', async () => {
    const r = await sendRaw(server.client(), 'POST', SIGN_IN, '');
    expectError(r, 'MALFORMED_JSON');
  });

  it('refuses wrong types with 400 VALIDATION_FAILED and names the fields', async () => {
    const r = await server.client().post(SIGN_IN, { email: 12345, password: true });
    expectError(r, 'VALIDATION_FAILED');
    const paths = r.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['body.email', 'body.password']));
    for (const issue of r.body.error.issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('refuses a body that is not an object (array, null, string, number)', async () => {
    for (const raw of ['[]', 'null', '"a@b.test"', '42']) {
      const r = await sendRaw(server.client(), 'POST', SIGN_IN, raw);
      expectError(r, 'VALIDATION_FAILED');
      expect(r.body.error.issues.length).toBeGreaterThan(0);
    }
  });

  it('refuses missing required fields', async () => {
    const r = await server.client().post(SIGN_IN, { email: 'a@b.test' });
    expectError(r, 'VALIDATION_FAILED');
    expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain('body.password');
  });

  it('refuses unknown fields (strict objects), also where a privilege could hide', async () => {
    const signInExtra = await server.client().post(SIGN_IN, { email: 'a@b.test', password: 'whatever it is', role: 'admin' });
    expectError(signInExtra, 'VALIDATION_FAILED');
    expect(JSON.stringify(signInExtra.body.error.issues)).toContain('role');

    const settingsExtra = await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 20, slug: 'hijacked' });
    expectError(settingsExtra, 'VALIDATION_FAILED');
    const memberExtra = await admin.patch(`/api/v1/org/members/${org.clinician.id}`, { displayName: 'X', organisationId: randomId() });
    expectError(memberExtra, 'VALIDATION_FAILED');

    // Nothing of a refused body was applied.
    const current = await admin.get('/api/v1/org');
    expect(current.body.settings.idleTimeoutMinutes).toBe(15);
    expect(current.body.slug).toBe('bad-input-hospital');
    const member = await admin.get(`/api/v1/org/members/${org.clinician.id}`);
    expect(member.body.displayName).toBe('clinician of Bad Input Hospital');
  });

  it('refuses "Infinity", "1e400", "12" and other non-numbers where a number or boolean is expected', async () => {
    const refused: unknown[] = [
      { idleTimeoutMinutes: 'Infinity' },
      { idleTimeoutMinutes: '-Infinity' },
      { idleTimeoutMinutes: '1e400' },
      { idleTimeoutMinutes: '12' },
      { idleTimeoutMinutes: '' },
      { idleTimeoutMinutes: null },
      { idleTimeoutMinutes: [12] },
      { idleTimeoutMinutes: 12.5 },
      { idleTimeoutMinutes: 0 },
      { idleTimeoutMinutes: 481 },
      { requireMfa: 'false' },
      { requireMfa: 0 },
      {},
    ];
    for (const body of refused) {
      const r = await admin.patch('/api/v1/org/settings', body);
      expectError(r, 'VALIDATION_FAILED');
    }
    // JSON numbers that JSON.parse turns into Infinity, or that exceed the safe range.
    for (const raw of ['{"idleTimeoutMinutes":1e400}', '{"idleTimeoutMinutes":-1e400}', '{"idleTimeoutMinutes":9007199254740993}']) {
      expectError(await sendRaw(admin, 'PATCH', '/api/v1/org/settings', raw), 'VALIDATION_FAILED');
    }
    const current = await admin.get('/api/v1/org');
    expect(current.body.settings).toEqual({ requireMfa: true, idleTimeoutMinutes: 15 });

    // Control: a real number in range is taken.
    const ok = await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 12 });
    expect(ok.status).toBe(200);
    expect(ok.body.settings.idleTimeoutMinutes).toBe(12);
    expect((await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 15 })).status).toBe(200);
  });

  it('refuses "__proto__" (and "constructor") keys anywhere in the body', async () => {
    const bodies = [
      '{"email":"a@b.test","password":"whatever it is","__proto__":{"role":"admin"}}',
      '{"email":"a@b.test","password":"whatever it is","x":{"__proto__":{"isAdmin":true}}}',
      '{"email":"a@b.test","password":"whatever it is","constructor":{"prototype":{"isAdmin":true}}}',
    ];
    for (const raw of bodies) expectError(await sendRaw(server.client(), 'POST', SIGN_IN, raw), 'MALFORMED_JSON');

    // Where the schema is open (authenticator output is a loose object), only the parser stands
    // between "__proto__" and the code: it must refuse it there too.
    const pending = server.client();
    expect((await pending.post(SIGN_IN, { email: org.admin.email, password: PASSWORD })).body.stage).toBe('mfa_required');
    const assertion = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' } };
    const poisoned = `{"response":${JSON.stringify(assertion).slice(0, -1)},"clientExtensionResults":{"__proto__":{"isAdmin":true}}}}`;
    expect(() => JSON.parse(poisoned)).not.toThrow();
    expectError(await sendRaw(pending, 'POST', '/api/v1/auth/mfa/passkey', poisoned), 'MALFORMED_JSON');
    // The global prototype is untouched.
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('answers JSON nested 10,000 levels deep with a 4xx, not a 500 or a crash', async () => {
    const c = server.client();
    const arrays = await sendRaw(c, 'POST', SIGN_IN, '['.repeat(10_000) + ']'.repeat(10_000));
    expect(arrays.status).toBeGreaterThanOrEqual(400);
    expect(arrays.status).toBeLessThan(500);
    expectError(arrays, arrays.body.error.code);
    const objects = await sendRaw(c, 'POST', SIGN_IN, '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
    expect(objects.status).toBeGreaterThanOrEqual(400);
    expect(objects.status).toBeLessThan(500);
    expectError(objects, objects.body.error.code);
    // Where the schema is open, the depth bound is what refuses it (before any code walks it).
    const pending = server.client();
    expect((await pending.post(SIGN_IN, { email: org.admin.email, password: PASSWORD })).body.stage).toBe('mfa_required');
    const deep = '{"a":'.repeat(100) + '1' + '}'.repeat(100);
    const assertion = `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"},"clientExtensionResults":${deep}}`;
    const refused = await sendRaw(pending, 'POST', '/api/v1/auth/mfa/passkey', `{"response":${assertion}}`);
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expectError(refused, refused.body.error.code);
    // Brackets inside a string are not nesting: this is an ordinary (wrong) sign-in.
    const inString = await c.post(SIGN_IN, { email: 'deep@nowhere.test', password: '['.repeat(200) });
    expectError(inString, 'INVALID_CREDENTIALS');
    expect((await c.get('/api/v1/health')).status).toBe(200);
  });
});

describe('body size', () => {
  const oversize = (bytes: number) => JSON.stringify({ email: 'big@nowhere.test', password: 'x'.repeat(bytes) });

  it('refuses a body over bodyLimitBytes announced by Content-Length with 413, and keeps serving', async () => {
    const body = oversize(5000);
    const r = await rawRequest(small.url, {
      method: 'POST',
      path: SIGN_IN,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      chunks: [body],
    });
    expectError({ status: r.status, body: r.body, headers: r.headers }, 'PAYLOAD_TOO_LARGE');
    const next = await small.client().get('/api/v1/health');
    expect(next.status).toBe(200);
    expect(next.body.status).toBe('ok');
  });

  it('refuses an oversize chunked body (no Content-Length) with 413, and keeps serving', async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => (i === 0 ? '{"email":"big@nowhere.test","password":"' : '') + 'x'.repeat(512));
    const r = await rawRequest(small.url, {
      method: 'POST',
      path: SIGN_IN,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks,
    });
    expectError({ status: r.status, body: r.body, headers: r.headers }, 'PAYLOAD_TOO_LARGE');
    const next = await small.client().post(SIGN_IN, { email: 'small@nowhere.test', password: 'small enough' });
    expectError(next, 'INVALID_CREDENTIALS');
  });

  it('takes a chunked body under the limit (control)', async () => {
    const r = await rawRequest(small.url, {
      method: 'POST',
      path: SIGN_IN,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: ['{"email":"chunked@nowhere.test",', '"password":"', 'y'.repeat(100), '"}'],
    });
    expectError({ status: r.status, body: r.body, headers: r.headers }, 'INVALID_CREDENTIALS');
  });
});

describe('media types', () => {
  it('refuses text/plain, form and multipart bodies with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const c = server.client();
    const cases: [string, string][] = [
      ['text/plain', '{"email":"a@b.test","password":"whatever it is"}'],
      ['application/x-www-form-urlencoded', 'email=a%40b.test&password=whatever'],
      ['multipart/form-data; boundary=X', '--X\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.test\r\n--X--\r\n'],
      ['application/xml', '<signIn/>'],
    ];
    for (const [type, raw] of cases) {
      const r = await sendRaw(c, 'POST', SIGN_IN, raw, type);
      expectError(r, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('URLs and parameters', () => {
  it('answers a malformed URL with 400 in the error shape', async () => {
    for (const path of ['/api/v1/%E0%A4%A', '/api/v1/invites/%E0%A4%A', '/api/v1/org/members/%ZZ']) {
      const r = await rawRequest(server.url, { method: 'GET', path });
      expect(r.status, `${path}: ${r.text}`).toBe(400);
      expectError({ status: r.status, body: r.body, headers: r.headers }, r.body.error.code);
    }
  });

  it('answers an over-long path parameter (300 characters) with a 4xx in the error shape', async () => {
    for (const path of [`/api/v1/invites/${'a'.repeat(300)}`, `/api/v1/org/members/${'b'.repeat(300)}`]) {
      const r = await server.client().get(path);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expectError(r, r.body.error.code);
    }
  });

  it('answers an unknown route with 404 NOT_FOUND in the error shape', async () => {
    const c = server.client();
    expectError(await c.get('/api/v1/no-such-thing'), 'NOT_FOUND');
    expectError(await c.post('/api/v1/no-such-thing', { a: 1 }), 'NOT_FOUND');
    expectError(await c.delete('/api/v1/health'), 'NOT_FOUND');
    expectError(await c.get('/api/v2/health'), 'NOT_FOUND');
  });

  it('answers an id that is not a UUID with 400 VALIDATION_FAILED naming the parameter', async () => {
    for (const id of ['not-a-uuid', '1', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000g']) {
      const r = await admin.get(`/api/v1/org/members/${encodeURIComponent(id)}`);
      expectError(r, 'VALIDATION_FAILED');
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain('params.id');
    }
    const revoke = await admin.delete('/api/v1/org/invites/not-a-uuid');
    expectError(revoke, 'VALIDATION_FAILED');
    // A well-formed id that names nothing is a 404, not a 400.
    expectError(await admin.get(`/api/v1/org/members/${randomId()}`), 'NOT_FOUND');
  });

  it('answers a malformed invite token with 400, a well-formed unknown one with 410', async () => {
    const c = server.client();
    const bad = await c.get('/api/v1/invites/short');
    expectError(bad, 'VALIDATION_FAILED');
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toContain('params.token');
    expectError(await c.get(`/api/v1/invites/${'A'.repeat(43)}`), 'INVITE_INVALID');
  });
});
