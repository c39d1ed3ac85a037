import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessageContent, encodeMessageContent, type AttachmentDescriptor, type CaseDetail } from '@consilium/protocol';
import { encryptAttachment } from '@consilium/crypto';
import type { TestClient, TestServer } from '../test-support/harness.js';
import { expectError, randomId } from '../test-support/http.js';
import { auditEntries } from '../test-support/audit.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation, signInPerson, startMessagingServer, trackConnections, type Organisation, type Person } from '../test-support/mls-client.js';
import { createDepartment } from '../orgs/service.js';
import { setVerification } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { deleteExpiredMessages, ATTACHMENT_EXPIRY_GRACE_SECONDS } from '../retention/expiry.js';
import { purgeExpiredCases } from '../cases/retention.js';
import { blobDirOf, blobPath } from './blob-store.js';

// Attachment blobs do not outlive their messages: expiry, recall and case purge delete the links,
// the rows and, once no conversation links a blob any more, its file on disk. Real server, real
// database (SQLite, or PostgreSQL with CONSILIUM_TEST_PG), real MLS devices, real ciphertext.

let server: TestServer;
let connections: ReturnType<typeof trackConnections>;
let org: Organisation;
const directory = new DeviceDirectory();
let alice: Person;
let bob: Person;
let a1: MlsDevice;
let b1: MlsDevice;
let admin: TestClient;
let adminPerson: Person;
let cardiology: string;

beforeAll(async () => {
  server = await startMessagingServer();
  connections = trackConnections(server);
  org = await seedOrganisation(server, 'St Elsewhere');
  alice = await addPerson(server, org, 'alice');
  bob = await addPerson(server, org, 'bob');
  for (const p of [alice, bob]) {
    await setVerification(server.deps, systemActor(org.id), p.id, { level: 'licence_verified', register: 'BIG', licenceNumber: `19${p.id.slice(0, 8)}`, evidence: 'BIG register lookup (synthetic)' });
  }
  a1 = await MlsDevice.create(server, alice, directory, { keyPackages: 8 });
  b1 = await MlsDevice.create(server, bob, directory, { keyPackages: 8 });
  adminPerson = await addPerson(server, org, 'admin', 'admin');
  admin = await signInPerson(server, adminPerson);
  cardiology = (await createDepartment(server.deps, systemActor(org.id), 'Cardiology')).id;
  expect((await admin.put(`/api/v1/oncall/${cardiology}`, { entries: [{ step: 1, accountId: bob.id }] })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  // fetch keeps connections alive; the server would wait for them on close.
  connections?.destroyAll();
  await server?.stop();
});

const fileOf = (blobId: string) => blobPath(blobDirOf(server.deps.config), blobId);
const rowsOf = async (blobId: string) => ({
  blob: await server.deps.db.selectFrom('attachment_blob').select('blob_id').where('blob_id', '=', blobId).executeTakeFirst(),
  links: await server.deps.db.selectFrom('attachment_link').select('conversation_id').where('blob_id', '=', blobId).execute(),
});

const cookieOf = (client: TestClient) => [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

async function putBlob(client: TestClient, blobId: string, conversationId: string, body: Uint8Array): Promise<void> {
  const res = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${conversationId}&contentType=image%2Fjpeg`, {
    method: 'PUT',
    headers: { cookie: cookieOf(client), 'content-type': 'application/octet-stream' },
    body,
  });
  expect(res.status, await res.text()).toBe(200);
}

async function downloadStatus(client: TestClient, blobId: string, conversationId: string): Promise<number> {
  const res = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${conversationId}`, { headers: { cookie: cookieOf(client) } });
  await res.arrayBuffer();
  return res.status;
}

/** Encrypts a random "photo", uploads its ciphertext for the conversation, and returns the descriptor and ciphertext. */
async function uploadPhoto(client: TestClient, conversationId: string): Promise<AttachmentDescriptor & { ciphertext: Uint8Array }> {
  const { descriptor, ciphertext } = await encryptAttachment(new Uint8Array(randomBytes(2048)), { fileName: 'wound.jpg', contentType: 'image/jpeg' });
  const bytes = new Uint8Array(Buffer.concat(ciphertext));
  await putBlob(client, descriptor.blobId, conversationId, bytes);
  expect(existsSync(fileOf(descriptor.blobId))).toBe(true);
  return { ...descriptor, ciphertext: bytes };
}

/** Sends a message carrying the photo's key, as the web client does; returns its sequence number. */
async function sendPhoto(device: MlsDevice, conversationId: string, text: string, photo: AttachmentDescriptor & { ciphertext: Uint8Array }): Promise<number> {
  const { ciphertext: _, ...descriptor } = photo;
  return device.send(conversationId, encodeMessageContent({ text, attachments: [descriptor] }));
}

/** Every device signs in again (sessions end when the clock moves by days). */
async function reattach() {
  for (const d of [a1, b1]) expect((await d.attach()).status).toBe(200);
  admin = await signInPerson(server, adminPerson);
}

describe('attachment blobs go with their messages', () => {
  it('expiry deletes the blob file once the conversation’s expiry (plus a short grace) has passed', async () => {
    const id = await a1.createConversation('group', [bob.id]);
    await b1.joinWelcomes();
    const photo = await uploadPhoto(a1.client, id);
    await sendPhoto(a1, id, 'Rash on day 2', photo);
    await b1.receive(id);
    expect(decodeMessageContent(b1.texts(id)[0]!).attachments[0]!.blobId).toBe(photo.blobId);
    expect((await a1.client.put(`/api/v1/conversations/${id}/expiry`, { expirySeconds: 86_400 })).status).toBe(200);

    // Within the expiry: nothing goes.
    await deleteExpiredMessages(server.deps);
    expect(existsSync(fileOf(photo.blobId))).toBe(true);

    // Past the expiry, within the grace: the message goes, the blob not yet. The server's own
    // minute sweep runs on the same clock and may get there first; either sweep audits what it
    // deleted, so the count comes from the audit entries.
    server.clock.advance(86_400 + 5);
    await deleteExpiredMessages(server.deps);
    const withinGrace = (await auditEntries(server, org.id)).filter((e) => e.type === 'message.expired' && e.entity?.id === id);
    expect(withinGrace.map((e) => [e.detail.messages, e.detail.attachments])).toEqual([[1, 0]]);
    expect(existsSync(fileOf(photo.blobId))).toBe(true);

    // Past the grace: link, row and file are gone, and the sweep audits it.
    server.clock.advance(ATTACHMENT_EXPIRY_GRACE_SECONDS);
    await deleteExpiredMessages(server.deps);
    expect(existsSync(fileOf(photo.blobId))).toBe(false);
    expect(await rowsOf(photo.blobId)).toEqual({ blob: undefined, links: [] });
    const expired = (await auditEntries(server, org.id)).filter((e) => e.type === 'message.expired' && e.entity?.id === id);
    expect(expired.map((e) => e.detail.attachments)).toEqual([0, 1]);
    await reattach();
  });

  it('a blob shared by two conversations stays on disk until the last one lets it go', async () => {
    const expiring = await a1.createConversation('group', [bob.id]);
    const kept = await a1.createConversation('direct', [bob.id]);
    await b1.joinWelcomes();
    const photo = await uploadPhoto(a1.client, expiring);
    // The same ciphertext uploaded for the second conversation links it there too.
    await putBlob(a1.client, photo.blobId, kept, photo.ciphertext);
    expect((await rowsOf(photo.blobId)).links).toHaveLength(2);
    expect((await a1.client.put(`/api/v1/conversations/${expiring}/expiry`, { expirySeconds: 86_400 })).status).toBe(200);
    server.clock.advance(86_400 + ATTACHMENT_EXPIRY_GRACE_SECONDS + 5);
    await deleteExpiredMessages(server.deps);
    expect(existsSync(fileOf(photo.blobId))).toBe(true);
    expect((await rowsOf(photo.blobId)).links).toEqual([{ conversation_id: kept }]);
    await reattach();
    // Bob, in the conversation that keeps it, still downloads it; in the expired one it is gone.
    expect(await downloadStatus(b1.client, photo.blobId, kept)).toBe(200);
    expect(await downloadStatus(b1.client, photo.blobId, expiring)).toBe(404);
  });

  it('recall deletes the attachments its sender names, and only the sender’s own uploads there', async () => {
    const id = await a1.createConversation('group', [bob.id]);
    await b1.joinWelcomes();
    const photo = await uploadPhoto(a1.client, id);
    const bobs = await uploadPhoto(b1.client, id);
    const seq = await sendPhoto(a1, id, 'Wrong patient', photo);
    // Not a list of blob ids: refused before anything is deleted.
    expectError(await a1.client.delete(`/api/v1/conversations/${id}/messages/${seq}?attachments=photo.jpg`), 'VALIDATION_FAILED');
    // Alice names her photo and Bob's: hers goes, his stays (she did not upload it).
    const r = await a1.client.delete(`/api/v1/conversations/${id}/messages/${seq}?attachments=${photo.blobId},${bobs.blobId}`);
    expect(r.status).toBe(200);
    expect(existsSync(fileOf(photo.blobId))).toBe(false);
    expect(await rowsOf(photo.blobId)).toEqual({ blob: undefined, links: [] });
    expect(existsSync(fileOf(bobs.blobId))).toBe(true);
    const recalled = (await auditEntries(server, org.id)).find((e) => e.type === 'message.recalled' && e.detail.seq === seq);
    expect(recalled?.detail.attachments).toBe(1);
    expect(await downloadStatus(b1.client, photo.blobId, id)).toBe(404);
    // The same ciphertext uploaded again is stored anew (a fresh row and file), and can be read.
    await putBlob(a1.client, photo.blobId, id, photo.ciphertext);
    expect(existsSync(fileOf(photo.blobId))).toBe(true);
    expect(await downloadStatus(b1.client, photo.blobId, id)).toBe(200);
  });

  it('a closed case’s purge after retention deletes its attachment files', async () => {
    expect((await admin.patch('/api/v1/org/case-policy', { retentionDaysAfterClose: 30 })).status).toBe(200);
    const opened = await a1.client.post<CaseDetail>('/api/v1/cases', { id: randomId(), departmentId: cardiology, urgency: 'routine' });
    expect(opened.status).toBe(200);
    const id = opened.body.case.id;
    await a1.startGroup(id, opened.body.conversation.members.map((m) => m.accountId));
    const photo = await uploadPhoto(a1.client, id);
    await sendPhoto(a1, id, 'ECG attached', photo);
    expect((await a1.client.post(`/api/v1/cases/${id}/close`, { outcomeRecorded: true })).status).toBe(200);
    server.clock.advance(29 * 86_400);
    await purgeExpiredCases(server.deps);
    expect(existsSync(fileOf(photo.blobId))).toBe(true);
    server.clock.advance(2 * 86_400);
    await purgeExpiredCases(server.deps);
    expect(existsSync(fileOf(photo.blobId))).toBe(false);
    expect(await rowsOf(photo.blobId)).toEqual({ blob: undefined, links: [] });
    const purged = (await auditEntries(server, org.id)).find((e) => e.type === 'case.purged' && e.caseId === id);
    expect(purged?.detail.attachments).toBe(1);
  });

  it('an upload racing the deletion of the same blob’s last link always ends with its row, its link and its file', async () => {
    await reattach();
    const expiring = await a1.createConversation('group', [bob.id]);
    const other = await a1.createConversation('group', [bob.id]);
    await b1.joinWelcomes();
    expect((await a1.client.put(`/api/v1/conversations/${expiring}/expiry`, { expirySeconds: 86_400 })).status).toBe(200);
    for (let round = 0; round < 8; round++) {
      const photo = await uploadPhoto(a1.client, expiring);
      // As if uploaded two days ago: the next sweep lets it go (moving the clock would end the sessions).
      const longAgo = new Date(server.clock.now().getTime() - 2 * 86_400_000).toISOString();
      await server.deps.db.updateTable('attachment_link').set({ created_at: longAgo }).where('blob_id', '=', photo.blobId).execute();
      // Bob uploads the same ciphertext for another conversation while the sweep runs.
      await Promise.all([deleteExpiredMessages(server.deps), putBlob(b1.client, photo.blobId, other, photo.ciphertext)]);
      expect(await rowsOf(photo.blobId)).toEqual({ blob: { blob_id: photo.blobId }, links: [{ conversation_id: other }] });
      expect(existsSync(fileOf(photo.blobId)), `round ${round}`).toBe(true);
      expect(await downloadStatus(a1.client, photo.blobId, other)).toBe(200);
    }
  });
});
