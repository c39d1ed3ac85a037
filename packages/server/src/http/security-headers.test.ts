import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError, rawRequest } from '../test-support/http.js';

let server: TestServer;
let https: TestServer;
let webDir: string;
let org: SeededOrg;
let admin: TestClient;

const FOREIGN = 'https://evil.example';

beforeAll(async () => {
  // A built web app stand-in, so "/" is served as the page it is in production.
  webDir = mkdtempSync(path.join(tmpdir(), 'consilium-web-'));
  mkdirSync(path.join(webDir, 'assets'));
  writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Consilium</title><script type="module" src="/assets/app-1234.js"></script>');
  writeFileSync(path.join(webDir, 'assets', 'app-1234.js'), 'console.log("app");');
  [server, https] = await Promise.all([startTestServer({ webDir }), startTestServer({ publicUrl: 'https://consilium.example.test' })]);
  org = await seedOrg(server, 'Headers Hospital');
  admin = (await signIn(server, org.admin.email)).client;
});
afterAll(async () => {
  await Promise.all([server?.stop(), https?.stop()]);
  rmSync(webDir, { recursive: true, force: true });
});

/** CSP header -> directive name -> source list. */
function parseCsp(header: string | null): Map<string, string[]> {
  expect(header, 'Content-Security-Policy header').toBeTruthy();
  const directives = new Map<string, string[]>();
  for (const part of header!.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

function expectStrictCsp(headers: Headers): void {
  const csp = parseCsp(headers.get('content-security-policy'));
  expect(csp.get('default-src')).toEqual(["'self'"]);
  expect(csp.get('script-src')).toEqual(["'self'"]);
  expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  expect(csp.get('object-src')).toEqual(["'none'"]);
  expect(csp.get('base-uri')).toEqual(["'none'"]);
  for (const [name, sources] of csp) {
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", '*', 'http:', 'https:']) {
      expect(sources, `${name} allows ${bad}`).not.toContain(bad);
    }
  }
}

function expectBaselineHeaders(headers: Headers): void {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
}

describe('Content-Security-Policy and friends', () => {
  it('serves the web app page with a strict CSP, nosniff, and no caching of index.html', async () => {
    const page = await server.client().get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expectStrictCsp(page.headers);
    expectBaselineHeaders(page.headers);
    expect(page.headers.get('cache-control')).toBe('no-cache');

    const asset = await server.client().get('/assets/app-1234.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('puts the same strict CSP and nosniff on API answers, successes and errors alike', async () => {
    const c = server.client();
    const answers = [
      await c.get('/api/v1/health'),
      await c.get('/api/v1/me'), // 401
      await c.get('/api/v1/no-such-route'), // 404
      await c.post('/api/v1/auth/sign-in', { email: 'x' }), // 400
      await admin.get('/api/v1/org/members'), // 200, authenticated
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 404, 400, 200]);
    for (const a of answers) {
      expectStrictCsp(a.headers);
      expectBaselineHeaders(a.headers);
    }
  });

  it('marks every API answer Cache-Control: no-store, including the one that sets the session cookie', async () => {
    const c = server.client();
    const signInReply = await c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD });
    expect(signInReply.status).toBe(200);
    expect(signInReply.headers.getSetCookie().length).toBe(1);
    const answers = [signInReply, await c.get('/api/v1/me'), await c.get('/api/v1/health'), await server.client().get('/api/v1/me'), await admin.get('/api/v1/org/members')];
    for (const a of answers) expect(a.headers.get('cache-control'), `status ${a.status}`).toBe('no-store');
  });

  it('puts the security headers on framework-level errors too (malformed URL, over-long parameter)', async () => {
    for (const p of ['/api/v1/%E0%A4%A', `/api/v1/invites/${'a'.repeat(300)}`]) {
      const r = await rawRequest(server.url, { method: 'GET', path: p });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      // The message echoes the URL back; nosniff and no-store keep that inert and uncached.
      expect(r.headers['x-content-type-options'], `${p}: ${JSON.stringify(r.headers)}`).toBe('nosniff');
      expect(r.headers['cache-control'], p).toBe('no-store');
      expect(r.headers['content-security-policy'], p).toBeTruthy();
    }
  });
});

describe('HSTS', () => {
  it('is not sent when the public URL is plain http (it would brick a lab install)', async () => {
    const r = await server.client().get('/api/v1/health');
    expect(r.headers.get('strict-transport-security')).toBeNull();
    expect(parseCsp(r.headers.get('content-security-policy')).has('upgrade-insecure-requests')).toBe(false);
  });

  it('is sent, for at least a year, when the public URL is https', async () => {
    for (const r of [await https.client().get('/api/v1/health'), await https.client().get('/api/v1/me')]) {
      const hsts = r.headers.get('strict-transport-security');
      expect(hsts).toBeTruthy();
      const maxAge = Number(/max-age=(\d+)/.exec(hsts!)?.[1]);
      expect(maxAge).toBeGreaterThanOrEqual(31_536_000);
      expect(hsts).toMatch(/includeSubDomains/i);
      expect(parseCsp(r.headers.get('content-security-policy')).has('upgrade-insecure-requests')).toBe(true);
    }
  });
});

describe('Origin check on writes', () => {
  it('refuses a POST from a foreign origin with 403 ORIGIN_MISMATCH, before any credential is checked', async () => {
    for (const origin of [FOREIGN, 'null', 'http://localhost:8081', 'https://localhost:8080', 'http://localhost.evil.example:8080']) {
      const c = server.client();
      const r = await c.request('POST', '/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD }, { headers: { origin } });
      expectError(r, 'ORIGIN_MISMATCH');
      expect(r.headers.getSetCookie(), origin).toEqual([]);
    }
  });

  it('refuses foreign-origin writes on a signed-in session, and the write does not happen', async () => {
    const headers = { origin: FOREIGN, cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    const patch = await admin.request('PATCH', '/api/v1/org/settings', { idleTimeoutMinutes: 99 }, { headers });
    expectError(patch, 'ORIGIN_MISMATCH');
    const dept = await admin.request('POST', '/api/v1/org/departments', { name: 'Smuggled' }, { headers });
    expectError(dept, 'ORIGIN_MISMATCH');
    const del = await admin.request('DELETE', `/api/v1/org/members/${org.clinician.id}/sessions`, undefined, { headers });
    expectError(del, 'ORIGIN_MISMATCH');

    const current = await admin.get('/api/v1/org');
    expect(current.body.settings.idleTimeoutMinutes).toBe(15);
    expect((await admin.get('/api/v1/org/departments')).body.departments).toEqual([]);
  });

  it('lets writes from the public origin, and writes without an Origin (non-browser clients), through', async () => {
    const same = await admin.request('POST', '/api/v1/org/departments', { name: 'Cardiology' }, { headers: { origin: 'http://localhost:8080' } });
    expect(same.status).toBe(200);
    const none = await admin.post('/api/v1/org/departments', { name: 'Radiology' });
    expect(none.status).toBe(200);
  });

  it('checks against the https public origin when that is the public URL', async () => {
    const c = https.client();
    expectError(await c.request('POST', '/api/v1/auth/sign-in', { email: 'a@b.test', password: 'x' }, { headers: { origin: 'http://consilium.example.test' } }), 'ORIGIN_MISMATCH');
    expectError(await c.request('POST', '/api/v1/auth/sign-in', { email: 'a@b.test', password: 'x' }, { headers: { origin: 'https://consilium.example.test' } }), 'INVALID_CREDENTIALS');
  });

  it('cannot be skipped by percent-encoding the /api prefix of the path', async () => {
    // find-my-way decodes %61 -> "a" before routing, so this reaches the sign-in route.
    const r = await rawRequest(server.url, {
      method: 'POST',
      path: '/%61pi/v1/auth/sign-in',
      headers: { origin: FOREIGN, 'content-type': 'application/json' },
      chunks: [JSON.stringify({ email: org.clinician.email, password: PASSWORD })],
    });
    expect(r.headers['set-cookie'] ?? [], `a cross-origin sign-in got a session: ${r.status} ${r.text}`).toEqual([]);
    expect(['ORIGIN_MISMATCH', 'NOT_FOUND', 'BAD_REQUEST'], `${r.status} ${r.text}`).toContain(r.body?.error?.code);
  });
});
