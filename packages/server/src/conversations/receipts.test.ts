import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, MemberReceipt, ReceiptList } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { patientMayUse } from '../http/access.js';
import {
  addPerson,
  DeviceDirectory,
  eventually,
  MlsDevice,
  seedMessagingCast,
  signInPerson,
  startMessagingRig,
  type MessagingRig,
  type Organisation,
  type Person,
} from '../test-support/mls-client.js';

// Sent / delivered / read receipts, titles and leaving, over the real HTTP API and WebSocket, with
// real MLS devices (SQLite, or PostgreSQL with CONSILIUM_TEST_PG).

let rig: MessagingRig;
let server: TestServer;
let org: Organisation;
const directory = new DeviceDirectory();
let alice: Person;
let bob: Person;
let carol: Person;
let mallory: Person;
let alice1: MlsDevice;
let alice2: MlsDevice;
let bob1: MlsDevice;
let carol1: MlsDevice;
let group: string;
async function receipts(device: MlsDevice, id: string): Promise<Map<string, MemberReceipt>> {
  const r = await device.client.get<ReceiptList>(`/api/v1/conversations/${id}/receipts`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.conversationId).toBe(id);
  return new Map(r.body.receipts.map((x) => [x.accountId, x]));
}

beforeAll(async () => {
  rig = await startMessagingRig();
  server = rig.server;
  ({ org, alice, bob, carol, mallory } = await seedMessagingCast(server));
  alice1 = await MlsDevice.create(server, alice, directory, { keyPackages: 5 });
  alice2 = await MlsDevice.create(server, alice, directory, { keyPackages: 5 });
  bob1 = await MlsDevice.create(server, bob, directory, { keyPackages: 5 });
  carol1 = await MlsDevice.create(server, carol, directory, { keyPackages: 5 });
  group = await alice1.createConversation('group', [bob.id, carol.id]);
  for (const d of [alice2, bob1, carol1]) expect(await d.joinWelcomes()).toEqual([group]);
});
afterAll(() => rig?.stop());

describe('receipts', () => {
  it('delivered follows the devices\u2019 acknowledgements, read follows the read marker, and members hear both over the socket', async () => {
    const watcher = await rig.open(alice2);
    const seq = await alice1.send(group, 'Ward round at 9, bed 12 first');
    let seen = await receipts(alice1, group);
    // Sent: the sender's own cursor moved with the message; nobody else has it yet.
    expect(seen.get(alice.id)!.deliveredSeq).toBe(seq);
    expect(seen.get(bob.id)!.deliveredSeq).toBeLessThan(seq);
    expect(seen.get(carol.id)!.deliveredSeq).toBeLessThan(seq);
    expect([...seen.values()].every((r) => r.readSeq === 0 && r.readAt === null)).toBe(true);

    // Delivered: Bob's device processes and acknowledges it; Alice's other device is told.
    await bob1.receive(group);
    const delivered = await watcher.next('receipts', (f) => f.conversationId === group && f.receipts.some((r) => r.accountId === bob.id && r.deliveredSeq >= seq));
    expect(delivered.receipts.find((r) => r.accountId === bob.id)!.readSeq).toBe(0);
    expect(delivered.receipts.find((r) => r.accountId === carol.id)!.deliveredSeq).toBeLessThan(seq);
    seen = await receipts(carol1, group);
    expect(seen.get(bob.id)!.deliveredSeq).toBe(seq);

    // Read: Bob's client says the thread was on screen up to seq.
    const r = await bob1.client.post(`/api/v1/conversations/${group}/read`, { seq });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const read = await watcher.next('receipts', (f) => f.conversationId === group && f.receipts.some((x) => x.accountId === bob.id && x.readSeq === seq));
    const bobReceipt = read.receipts.find((x) => x.accountId === bob.id)!;
    expect(bobReceipt.readAt).not.toBeNull();
    expect(read.receipts.find((x) => x.accountId === carol.id)!.readSeq).toBe(0);
    expect(watcher.invalidFrames).toEqual([]);
  });

  it('an ack over the WebSocket moves "delivered" too', async () => {
    const watcher = await rig.open(alice1);
    const carolSocket = await rig.open(carol1);
    const seq = await bob1.send(group, 'Bloods back, K+ 5.9');
    await carol1.receive(group, { ack: false });
    carolSocket.send({ type: 'ack', conversationId: group, seq });
    await watcher.next('receipts', (f) => f.conversationId === group && f.receipts.some((x) => x.accountId === carol.id && x.deliveredSeq >= seq));
  });

  it('the read marker never moves back; beyond the last message, or a bad body, gets a typed error', async () => {
    const last = (await bob1.client.get<Conversation>(`/api/v1/conversations/${group}`)).body.lastSeq;
    expect((await bob1.client.post(`/api/v1/conversations/${group}/read`, { seq: last })).status).toBe(200);
    expect((await bob1.client.post(`/api/v1/conversations/${group}/read`, { seq: 1 })).status).toBe(200);
    expect((await receipts(bob1, group)).get(bob.id)!.readSeq).toBe(last);
    expectError(await bob1.client.post(`/api/v1/conversations/${group}/read`, { seq: last + 1 }), 'VALIDATION_FAILED');
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }, { seq: 'Infinity' }, { seq: 1, extra: true }, [1]]) {
      expectError(await bob1.client.post(`/api/v1/conversations/${group}/read`, body), 'VALIDATION_FAILED');
    }
    expectError(await bob1.client.request('POST', `/api/v1/conversations/${group}/read`, undefined, { raw: '{"seq":' }), 'MALFORMED_JSON');
    expectError(await bob1.client.get(`/api/v1/conversations/not-an-id/receipts`), 'VALIDATION_FAILED');
  });

  it('other organisations and people outside the conversation cannot read or move receipts (404)', async () => {
    const outsider = await signInPerson(server, mallory);
    expectError(await outsider.get(`/api/v1/conversations/${group}/receipts`), 'NOT_FOUND');
    expectError(await outsider.post(`/api/v1/conversations/${group}/read`, { seq: 1 }), 'NOT_FOUND');
    const dave = await addPerson(server, org, 'dave');
    const daveClient = await signInPerson(server, dave);
    expectError(await daveClient.get(`/api/v1/conversations/${group}/receipts`), 'NOT_FOUND');
    expectError(await daveClient.post(`/api/v1/conversations/${group}/read`, { seq: 1 }), 'NOT_FOUND');
    expect((await receipts(alice1, group)).has(dave.id)).toBe(false);
  });
});

describe('patients', () => {
  it('may read receipts and post read markers in the conversations they were invited to (the routes are on their allowlist)', () => {
    expect(patientMayUse('GET', '/api/v1/conversations/:id/receipts')).toBe(true);
    expect(patientMayUse('POST', '/api/v1/conversations/:id/read')).toBe(true);
    expect(patientMayUse('GET', '/api/v1/directory')).toBe(false);
  });
});

describe('leaving', () => {
  it('anyone may leave; they then see nothing of the conversation and drop out of its receipts', async () => {
    const left = await carol1.client.delete(`/api/v1/conversations/${group}/members/${carol.id}`);
    expect(left.status, JSON.stringify(left.body)).toBe(200);
    expectError(await carol1.client.get(`/api/v1/conversations/${group}`), 'NOT_FOUND');
    expectError(await carol1.client.get(`/api/v1/conversations/${group}/receipts`), 'NOT_FOUND');
    expectError(await carol1.client.post(`/api/v1/conversations/${group}/read`, { seq: 1 }), 'NOT_FOUND');
    await eventually(async () => !(await receipts(alice1, group)).has(carol.id), 'Carol drops out of the receipts');
    // A member who is not an admin cannot remove someone else.
    expectError(await bob1.client.delete(`/api/v1/conversations/${group}/members/${alice.id}`), 'FORBIDDEN');
  });

  it('when the last admin leaves a group, its longest-standing member becomes admin', async () => {
    const ward = await alice1.createConversation('group', [bob.id]);
    await bob1.joinWelcomes();
    expect((await alice1.client.delete(`/api/v1/conversations/${ward}/members/${alice.id}`)).status).toBe(200);
    const seen = (await bob1.client.get<Conversation>(`/api/v1/conversations/${ward}`)).body;
    expect(seen.members.map((m) => [m.accountId, m.role])).toEqual([[bob.id, 'admin']]);
  });
});
