import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, MessagePage } from '@consilium/protocol';
import type { TestClient, TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { auditEntries } from '../test-support/audit.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation, signInPerson, startMessagingServer, type Organisation, type Person } from '../test-support/mls-client.js';
import { deleteExpiredMessages } from './expiry.js';

// Disappearing messages and recall, against a real server and database with real MLS devices.

let server: TestServer;
let org: Organisation;
let alice: Person;
let bob: Person;
let carol: Person;
let mallory: Person;
let admin: TestClient;
const directory = new DeviceDirectory();
let a1: MlsDevice;
let b1: MlsDevice;
let c1: MlsDevice;
let m1: MlsDevice;

const messagesOf = async (device: MlsDevice, id: string) =>
  (await device.client.get<MessagePage>(`/api/v1/conversations/${id}/messages?after=0&limit=500`)).body.messages;

beforeAll(async () => {
  server = await startMessagingServer();
  org = await seedOrganisation(server, 'St Elsewhere');
  const other = await seedOrganisation(server, 'County General');
  alice = await addPerson(server, org, 'alice');
  bob = await addPerson(server, org, 'bob');
  carol = await addPerson(server, org, 'carol');
  mallory = await addPerson(server, other, 'mallory');
  a1 = await MlsDevice.create(server, alice, directory, { keyPackages: 6 });
  b1 = await MlsDevice.create(server, bob, directory, { keyPackages: 6 });
  c1 = await MlsDevice.create(server, carol, directory, { keyPackages: 6 });
  m1 = await MlsDevice.create(server, mallory, directory, { keyPackages: 6 });
  admin = await signInPerson(server, await addPerson(server, org, 'admin', 'admin'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('disappearing messages', () => {
  it('new conversations take the organisation’s default', async () => {
    const before = await a1.createConversation('direct', [bob.id]);
    expect((await a1.client.get<Conversation>(`/api/v1/conversations/${before}`)).body.expirySeconds).toBeNull();
    expect((await admin.patch('/api/v1/org/case-policy', { messageExpiryDays: 7 })).status).toBe(200);
    const after = await a1.createConversation('group', [bob.id, carol.id]);
    expect((await a1.client.get<Conversation>(`/api/v1/conversations/${after}`)).body.expirySeconds).toBe(7 * 86_400);
    await admin.patch('/api/v1/org/case-policy', { messageExpiryDays: null });
  });

  it('either person sets it in a direct conversation; only admins in a group; within 1 day to 1 year', async () => {
    const direct = await b1.createConversation('direct', [carol.id]);
    const set = await c1.client.put<Conversation>(`/api/v1/conversations/${direct}/expiry`, { expirySeconds: 86_400 });
    expect(set.status).toBe(200);
    expect(set.body.expirySeconds).toBe(86_400);
    const group = await a1.createConversation('group', [bob.id, carol.id]);
    expectError(await b1.client.put(`/api/v1/conversations/${group}/expiry`, { expirySeconds: 86_400 }), 'FORBIDDEN');
    expectError(await a1.client.put(`/api/v1/conversations/${group}/expiry`, { expirySeconds: 60 }), 'VALIDATION_FAILED');
    expectError(await a1.client.put(`/api/v1/conversations/${group}/expiry`, { expirySeconds: 400 * 86_400 }), 'VALIDATION_FAILED');
    expectError(await m1.client.put(`/api/v1/conversations/${group}/expiry`, { expirySeconds: 86_400 }), 'NOT_FOUND');
    expect((await a1.client.put(`/api/v1/conversations/${group}/expiry`, { expirySeconds: null })).status).toBe(200);
  });

  it('deletes expired ciphertext from the server, keeps the commits, and audits how many went', async () => {
    const id = await a1.createConversation('group', [bob.id]);
    await b1.joinWelcomes();
    await a1.send(id, 'old: potassium 6.1, repeat sample');
    server.clock.advance(2 * 86_400);
    // Two days on, every session has ended: each device signs in again and proves its key.
    for (const d of [a1, b1, c1, m1]) expect((await d.attach()).status).toBe(200);
    await a1.send(id, 'new: repeat potassium 4.9');
    expect((await a1.client.put(`/api/v1/conversations/${id}/expiry`, { expirySeconds: 86_400 })).status).toBe(200);
    await deleteExpiredMessages(server.deps);
    // A device that had not fetched yet only ever gets what is left.
    await b1.receive(id);
    expect(b1.texts(id)).toEqual(['new: repeat potassium 4.9']);
    const left = await messagesOf(a1, id);
    expect(left.filter((m) => m.kind === 'application')).toHaveLength(1);
    expect(left.filter((m) => m.kind === 'commit').length).toBeGreaterThan(0);
    const expired = (await auditEntries(server, org.id)).filter((e) => e.type === 'message.expired' && e.entity?.id === id);
    expect(expired).toHaveLength(1);
    expect(expired[0]!.detail.messages).toBe(1);
    expect(await deleteExpiredMessages(server.deps)).toBe(0);
  });
});

describe('recalling a message', () => {
  it('only its sender can, and only an application message; the ciphertext is gone for everyone', async () => {
    const id = await a1.createConversation('group', [bob.id, carol.id]);
    await b1.joinWelcomes();
    await c1.joinWelcomes();
    const seq = await a1.send(id, 'wrong patient: please ignore');
    const commit = (await messagesOf(a1, id)).find((m) => m.kind === 'commit')!;
    expectError(await b1.client.delete(`/api/v1/conversations/${id}/messages/${seq}`), 'FORBIDDEN');
    expectError(await a1.client.delete(`/api/v1/conversations/${id}/messages/${commit.seq}`), 'FORBIDDEN');
    expectError(await m1.client.delete(`/api/v1/conversations/${id}/messages/${seq}`), 'NOT_FOUND');
    expectError(await a1.client.delete(`/api/v1/conversations/${id}/messages/0`), 'VALIDATION_FAILED');
    expect((await a1.client.delete(`/api/v1/conversations/${id}/messages/${seq}`)).status).toBe(200);
    expectError(await a1.client.delete(`/api/v1/conversations/${id}/messages/${seq}`), 'NOT_FOUND');
    expect((await messagesOf(b1, id)).some((m) => m.seq === seq)).toBe(false);
    await c1.receive(id);
    expect(c1.texts(id)).toEqual([]);
    // The conversation goes on: later messages still arrive in order.
    await a1.send(id, 'correct patient: bed 12');
    await c1.receive(id);
    expect(c1.texts(id)).toEqual(['correct patient: bed 12']);
    expect((await auditEntries(server, org.id)).some((e) => e.type === 'message.recalled' && e.detail.seq === seq)).toBe(true);
  });
});
