import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, errorCodes } from '@consilium/protocol';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { collectRefs, fetchOpenApi, operations, resolvePointer, type OpenApiDocument } from '../test-support/openapi.js';

let server: TestServer;
let doc: OpenApiDocument;
let contentType: string | null;

beforeAll(async () => {
  server = await startTestServer();
  const r = await server.client().get('/api/v1/openapi.json');
  expect(r.status).toBe(200);
  contentType = r.headers.get('content-type');
  doc = await fetchOpenApi(server.client());
});
afterAll(() => server?.stop());

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 JSON document for this protocol version, served without a session', () => {
    expect(contentType).toMatch(/^application\/json/);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Consilium API');
    expect(doc.info.version).toBe(PROTOCOL_VERSION);
    expect(typeof doc.paths).toBe('object');
  });

  it('lists the /api/v1 operations clients use', () => {
    const keys = operations(doc).map((o) => o.key);
    for (const expected of [
      'GET /api/v1/health',
      'POST /api/v1/auth/sign-in',
      'POST /api/v1/auth/sign-out',
      'POST /api/v1/auth/mfa/totp',
      'POST /api/v1/auth/mfa/recovery-code',
      'POST /api/v1/auth/mfa/passkey/options',
      'POST /api/v1/auth/mfa/passkey',
      'GET /api/v1/me',
      'GET /api/v1/me/sessions',
      'DELETE /api/v1/me/sessions/{id}',
      'POST /api/v1/me/mfa/totp/setup',
      'POST /api/v1/me/mfa/totp/confirm',
      'GET /api/v1/me/passkeys',
      'POST /api/v1/me/passkeys',
      'GET /api/v1/org',
      'PATCH /api/v1/org/settings',
      'GET /api/v1/org/departments',
      'POST /api/v1/org/departments',
      'GET /api/v1/org/members',
      'GET /api/v1/org/members/{id}',
      'PATCH /api/v1/org/members/{id}',
      'PUT /api/v1/org/members/{id}/verification',
      'POST /api/v1/org/members/{id}/reset-mfa',
      'DELETE /api/v1/org/members/{id}/sessions',
      'POST /api/v1/org/invites',
      'GET /api/v1/org/invites',
      'DELETE /api/v1/org/invites/{id}',
      'GET /api/v1/invites/{token}',
      'POST /api/v1/invites/{token}/accept',
    ]) {
      expect(keys).toContain(expected);
    }
    for (const path of Object.keys(doc.paths)) expect(path.startsWith('/api/v1/')).toBe(true);
    // The document itself is hidden.
    expect(Object.keys(doc.paths)).not.toContain('/api/v1/openapi.json');
  });

  it('has no dangling $ref: every reference resolves inside the document', () => {
    const refs = collectRefs(doc);
    const dangling = refs.filter(({ ref }) => resolvePointer(doc, ref) === undefined);
    expect(dangling, JSON.stringify(dangling.slice(0, 5))).toEqual([]);
    // Every "#/components/schemas/X" names a schema that is there.
    const schemas = (doc.components?.schemas ?? {}) as Record<string, unknown>;
    for (const { ref } of refs) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      if (m) expect(Object.hasOwn(schemas, decodeURIComponent(m[1]!)), ref).toBe(true);
    }
    // No reference points outside the document either (clients cannot fetch those).
    expect(refs.filter(({ ref }) => !ref.startsWith('#'))).toEqual([]);
  });

  it('declares path parameters, strict request bodies, and the error shape on every operation', () => {
    for (const op of operations(doc)) {
      const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.spec.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      expect(declared.sort(), op.key).toEqual(names.sort());

      const body = op.spec.requestBody?.content?.['application/json']?.schema;
      if (body && body.type === 'object') expect(body.additionalProperties, `${op.key} body is not strict`).toBe(false);

      // A success answer is documented (200, or 202 for work that runs in the background).
      expect(Object.keys(op.spec.responses ?? {}).some((code) => /^2\d\d$/.test(code)), op.key).toBe(true);
      for (const range of ['4XX', '5XX']) {
        const schema = op.spec.responses?.[range]?.content?.['application/json']?.schema;
        expect(schema, `${op.key} ${range}`).toBeTruthy();
        const resolved: any = schema.$ref ? resolvePointer(doc, schema.$ref) : schema;
        expect(resolved.properties.error.properties.code.enum, `${op.key} ${range}`).toEqual(errorCodes);
      }
    }
  });
});
