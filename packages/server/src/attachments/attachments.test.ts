import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptAttachment, encryptAttachment } from '@consilium/crypto';
import { attachmentCiphertextBytes, type UploadedAttachment } from '@consilium/protocol';
import type { TestClient, TestServer } from '../test-support/harness.js';
import { expectError, rawRequest } from '../test-support/http.js';
import { appendedBy } from '../test-support/audit.js';
import {
  addPerson,
  DeviceDirectory,
  eventually,
  MlsDevice,
  seedMessagingCast,
  seedOrganisation,
  signInPerson,
  startMessagingRig,
  startMessagingServer,
  type MessagingRig,
  type Organisation,
  type Person,
} from '../test-support/mls-client.js';
import { blobDirOf, blobPath } from './blob-store.js';

// Attachments end to end over HTTP: real server, real database (SQLite, or PostgreSQL with
// CONSILIUM_TEST_PG), conversations made by real MLS devices, ciphertext from the real
// attachment encryption. A small size limit (8 KiB) keeps the over-size cases cheap.

const LIMIT = 8 * 1024;
let rig: MessagingRig;
let server: TestServer;
let org: Organisation;
const directory = new DeviceDirectory();
let alice: Person;
let bob: Person;
let carol: Person;
let mallory: Person;
let alice1: MlsDevice;
let bob1: MlsDevice;
let carol1: MlsDevice;
let mallory1: MlsDevice;
/** Alice and Bob. */
let direct: string;
/** Alice and Carol. */
let other: string;

beforeAll(async () => {
  rig = await startMessagingRig({ config: { attachmentMaxBytes: LIMIT } });
  server = rig.server;
  ({ org, alice, bob, carol, mallory } = await seedMessagingCast(server));
  alice1 = await MlsDevice.create(server, alice, directory);
  bob1 = await MlsDevice.create(server, bob, directory);
  carol1 = await MlsDevice.create(server, carol, directory);
  mallory1 = await MlsDevice.create(server, mallory, directory);
  direct = await alice1.createConversation('direct', [bob.id]);
  other = await alice1.createConversation('direct', [carol.id]);
});
afterAll(() => rig?.stop());

/** Same-origin PUT of raw bytes with the client's session cookie. */
async function upload(client: TestClient, blobId: string, conversationId: string, body: Uint8Array, contentType = 'image/jpeg', headers: Record<string, string> = {}) {
  const res = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${conversationId}&contentType=${encodeURIComponent(contentType)}`, {
    method: 'PUT',
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/octet-stream', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function download(client: TestClient, blobId: string, conversationId?: string) {
  const res = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}${conversationId ? `?conversationId=${conversationId}` : ''}`, {
    headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let body: unknown;
  if (res.headers.get('content-type')?.startsWith('application/json')) body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, body };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const joined = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

async function encrypted(n: number) {
  const plain = new Uint8Array(randomBytes(n));
  const { descriptor, ciphertext } = await encryptAttachment(plain, { fileName: 'photo.jpg', contentType: 'image/jpeg' });
  return { plain, descriptor, ciphertext: joined(ciphertext) };
}

/** Files left in the store's incoming folder (an aborted or refused upload must leave none). */
const incoming = () => {
  const dir = path.join(blobDirOf(server.deps.config), 'incoming');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('attachments: content-addressed blob store', () => {
  it('uploads ciphertext for a conversation; a member downloads and decrypts it; both are audited', async () => {
    const { plain, descriptor, ciphertext } = await encrypted(3000);
    const { result: up, logs } = await appendedBy(server, () => upload(alice1.client, descriptor.blobId, direct, ciphertext));
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body as UploadedAttachment).toMatchObject({ blobId: descriptor.blobId, conversationId: direct, size: ciphertext.length, created: true });
    expect(logs[org.id]).toHaveLength(1);
    expect(logs[org.id]![0]).toMatchObject({
      type: 'attachment.uploaded',
      action: 'C',
      actor: { accountId: alice.id },
      entity: { type: 'attachment', id: descriptor.blobId },
      detail: { conversationId: direct, size: ciphertext.length, contentType: 'image/jpeg', created: true },
    });
    // Stored under its content address, byte for byte.
    expect(new Uint8Array(readFileSync(blobPath(blobDirOf(server.deps.config), descriptor.blobId)))).toEqual(ciphertext);

    const { result: down, logs: readLogs } = await appendedBy(server, () => download(bob1.client, descriptor.blobId, direct));
    expect(down.status).toBe(200);
    expect(down.headers.get('content-type')).toBe('application/octet-stream');
    expect(down.headers.get('cache-control')).toBe('no-store');
    expect(sha256(down.bytes)).toBe(descriptor.blobId);
    expect(await decryptAttachment(down.bytes, descriptor)).toEqual(plain);
    expect(readLogs[org.id]).toEqual([
      expect.objectContaining({ type: 'attachment.downloaded', action: 'R', actor: expect.objectContaining({ accountId: bob.id }), entity: { type: 'attachment', id: descriptor.blobId } }),
    ]);
    // Without naming the conversation: any conversation of the caller's that it was uploaded for.
    expect((await download(alice1.client, descriptor.blobId)).status).toBe(200);
  });

  it('refuses bytes whose SHA-256 is not the blob id, and keeps nothing of them', async () => {
    const { descriptor, ciphertext } = await encrypted(500);
    const tampered = ciphertext.slice();
    tampered[100]! ^= 1;
    const { result: r, logs } = await appendedBy(server, () => upload(alice1.client, descriptor.blobId, direct, tampered));
    expectError(r, 'BLOB_HASH_MISMATCH');
    expect(logs).toEqual({});
    expect(existsSync(blobPath(blobDirOf(server.deps.config), descriptor.blobId))).toBe(false);
    expect(incoming()).toEqual([]);
    expectError(await download(alice1.client, descriptor.blobId, direct), 'NOT_FOUND');
  });

  it('refuses an attachment over the size limit with PAYLOAD_TOO_LARGE, with or without Content-Length, and stays up', async () => {
    const limit = attachmentCiphertextBytes(LIMIT);
    const { descriptor: fits, ciphertext: fitting } = await encrypted(LIMIT);
    expect(fitting.length).toBe(limit);
    expect((await upload(alice1.client, fits.blobId, direct, fitting)).status).toBe(200);

    const { descriptor, ciphertext } = await encrypted(LIMIT + 1);
    const declared = await upload(alice1.client, descriptor.blobId, direct, ciphertext);
    expectError(declared, 'PAYLOAD_TOO_LARGE');
    expect(declared.body.error.message).toContain(String(LIMIT));

    // Chunked: the server counts as the bytes arrive and stops at the limit.
    const cookie = [...alice1.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const parts = Array.from({ length: Math.ceil(ciphertext.length / 1000) }, (_, i) => Buffer.from(ciphertext.subarray(i * 1000, (i + 1) * 1000)));
    const chunked = await rawRequest(server.url, {
      method: 'PUT',
      path: `/api/v1/attachments/${descriptor.blobId}?conversationId=${direct}&contentType=image%2Fjpeg`,
      headers: { cookie, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      chunks: parts,
    });
    expectError(chunked, 'PAYLOAD_TOO_LARGE');
    expect(incoming()).toEqual([]);
    expect(existsSync(blobPath(blobDirOf(server.deps.config), descriptor.blobId))).toBe(false);
    // Still serving.
    expect((await download(alice1.client, fits.blobId, direct)).status).toBe(200);
  });

  it('an upload cut off half way leaves nothing behind', async () => {
    const { descriptor, ciphertext } = await encrypted(5000);
    const cookie = [...alice1.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const url = new URL(server.url);
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'PUT',
      path: `/api/v1/attachments/${descriptor.blobId}?conversationId=${direct}&contentType=image%2Fjpeg`,
      headers: { cookie, 'content-type': 'application/octet-stream', 'content-length': String(ciphertext.length) },
    });
    req.on('error', () => undefined);
    req.write(Buffer.from(ciphertext.subarray(0, 2000)));
    // The server has started writing the blob...
    await eventually(async () => incoming().length === 1, 'the upload to start');
    req.destroy();
    // ...and removes the partial file when the connection drops.
    await eventually(async () => incoming().length === 0, 'the partial upload to be removed');
    expect(existsSync(blobPath(blobDirOf(server.deps.config), descriptor.blobId))).toBe(false);
    expect(await server.deps.db.selectFrom('attachment_blob').selectAll().where('blob_id', '=', descriptor.blobId).execute()).toEqual([]);
  });

  it('re-uploading the same blob is idempotent; uploading it for another conversation links it there', async () => {
    const { descriptor, ciphertext } = await encrypted(700);
    const first = await upload(alice1.client, descriptor.blobId, direct, ciphertext);
    const again = await upload(alice1.client, descriptor.blobId, direct, ciphertext);
    expect(first.body.created).toBe(true);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ blobId: descriptor.blobId, size: ciphertext.length, created: false });
    const links = await server.deps.db.selectFrom('attachment_link').selectAll().where('blob_id', '=', descriptor.blobId).execute();
    expect(links).toHaveLength(1);

    // Carol is not in the direct conversation: the blob does not exist for her until it is linked to hers.
    expectError(await download(carol1.client, descriptor.blobId), 'NOT_FOUND');
    const linked = await upload(alice1.client, descriptor.blobId, other, ciphertext);
    expect(linked.body).toMatchObject({ conversationId: other, created: false });
    expect((await download(carol1.client, descriptor.blobId)).status).toBe(200);
    // ...but only through her conversation.
    expectError(await download(carol1.client, descriptor.blobId, direct), 'NOT_FOUND');
    // Linking needs the bytes, not only the id.
    expectError(await upload(alice1.client, descriptor.blobId, other, ciphertext.subarray(1)), 'BLOB_HASH_MISMATCH');
  });

  it('members only: another organisation, a colleague outside the conversation, a removed member, no session', async () => {
    const { descriptor, ciphertext } = await encrypted(200);
    expect((await upload(alice1.client, descriptor.blobId, direct, ciphertext)).status).toBe(200);
    // Downloads.
    expectError(await download(mallory1.client, descriptor.blobId), 'NOT_FOUND');
    expectError(await download(mallory1.client, descriptor.blobId, direct), 'NOT_FOUND');
    expectError(await download(carol1.client, descriptor.blobId, direct), 'NOT_FOUND');
    expectError(await download(server.client(), descriptor.blobId), 'UNAUTHENTICATED');
    // Uploads into a conversation one is not in.
    expectError(await upload(carol1.client, descriptor.blobId, direct, ciphertext), 'NOT_FOUND');
    expectError(await upload(mallory1.client, descriptor.blobId, direct, ciphertext), 'NOT_FOUND');
    expectError(await upload(server.client(), descriptor.blobId, direct, ciphertext), 'UNAUTHENTICATED');
    // Exports are for members too.
    expectError(await mallory1.client.post(`/api/v1/attachments/${descriptor.blobId}/exports`, { conversationId: direct }), 'NOT_FOUND');

    // A group Bob leaves: after that, its attachments are gone for him.
    const group = await alice1.createConversation('group', [bob.id, carol.id]);
    const { descriptor: g, ciphertext: gc } = await encrypted(100);
    expect((await upload(carol1.client, g.blobId, group, gc)).status).toBe(200);
    expect((await download(bob1.client, g.blobId, group)).status).toBe(200);
    const bobNow = await signInPerson(server, bob);
    expect((await bobNow.delete(`/api/v1/conversations/${group}/members/${bob.id}`)).status).toBe(200);
    expectError(await download(bobNow, g.blobId, group), 'NOT_FOUND');
    expectError(await upload(bobNow, g.blobId, group, gc), 'NOT_FOUND');
  });

  it('checks the declared content type and the body type', async () => {
    const { descriptor, ciphertext } = await encrypted(100);
    expectError(await upload(alice1.client, descriptor.blobId, direct, ciphertext, 'text/html'), 'VALIDATION_FAILED');
    expectError(await upload(alice1.client, descriptor.blobId, direct, ciphertext, 'application/x-msdownload'), 'VALIDATION_FAILED');
    expectError(await upload(alice1.client, descriptor.blobId, direct, ciphertext, 'image/png', { 'content-type': 'application/json' }), 'MALFORMED_JSON');
    expectError(await upload(alice1.client, descriptor.blobId, direct, new TextEncoder().encode('{"a":1}'), 'image/png', { 'content-type': 'application/json' }), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await upload(alice1.client, descriptor.blobId, direct, ciphertext, 'image/png', { 'content-type': 'image/png' }), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await upload(alice1.client, 'NOT-A-HASH', direct, ciphertext), 'VALIDATION_FAILED');
    for (const type of ['image/png', 'image/heic', 'image/webp', 'application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document']) {
      const { descriptor: d, ciphertext: c } = await encrypted(50);
      expect((await upload(alice1.client, d.blobId, direct, c, type)).status, type).toBe(200);
    }
    expect(incoming()).toEqual([]);
  });

  it('an explicit export is recorded in the audit log', async () => {
    const { descriptor, ciphertext } = await encrypted(100);
    expect((await upload(alice1.client, descriptor.blobId, direct, ciphertext, 'application/pdf')).status).toBe(200);
    const { result, logs } = await appendedBy(server, () => bob1.client.post(`/api/v1/attachments/${descriptor.blobId}/exports`, { conversationId: direct }));
    expect(result.status).toBe(200);
    expect(logs[org.id]).toEqual([
      expect.objectContaining({ type: 'attachment.exported', action: 'E', actor: expect.objectContaining({ accountId: bob.id }), detail: { conversationId: direct, contentType: 'application/pdf' } }),
    ]);
  });
});

describe('attachments larger than the API body limit', () => {
  it('streams a 1 MiB upload past the 256 KiB JSON body limit (the attachment limit applies, not the API one)', async () => {
    const big = await startMessagingServer({ config: { attachmentMaxBytes: 2 * 1024 * 1024, bodyLimitBytes: 256 * 1024 } });
    try {
      const o = await seedOrganisation(big, 'Big Files Hospital');
      const d1 = await MlsDevice.create(big, await addPerson(big, o, 'dana'), directory);
      const p2 = await addPerson(big, o, 'eli');
      const d2 = await MlsDevice.create(big, p2, directory);
      const c = await d1.createConversation('direct', [p2.id]);
      const plain = new Uint8Array(randomBytes(1024 * 1024));
      const { descriptor, ciphertext } = await encryptAttachment(plain, { fileName: 'scan.pdf', contentType: 'application/pdf' });
      const r = await upload(d1.client, descriptor.blobId, c, joined(ciphertext), 'application/pdf');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const down = await download(d2.client, descriptor.blobId, c);
      expect(await decryptAttachment(down.bytes, descriptor)).toEqual(plain);
    } finally {
      await big.stop();
    }
    // A second server with its own organisation, people and MLS devices: slow on a loaded machine.
  }, 120_000);
});
