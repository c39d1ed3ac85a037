import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, MemberReceipt, Preferences, ReceiptList } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { patientMayUse } from '../http/access.js';
import { auditEntriesOfType } from '../test-support/audit.js';
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

describe('read receipts off (reciprocal, as in Signal and WhatsApp)', () => {
  let dan: Person;
  let erin: Person;
  let frank: Person;
  let dan1: MlsDevice;
  let erin1: MlsDevice;
  let frank1: MlsDevice;
  let ward: string;
  const setReadReceipts = async (device: MlsDevice, readReceipts: boolean) => {
    const r = await device.client.patch<Preferences>('/api/v1/me/preferences', { readReceipts });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ readReceipts });
  };
  const markRead = async (device: MlsDevice, seq: number) => {
    const r = await device.client.post(`/api/v1/conversations/${ward}/read`, { seq });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  /** Every receipt of someone else in the frames a socket got for the ward. */
  const othersInFrames = (socket: Awaited<ReturnType<MessagingRig['open']>>, self: Person) =>
    socket.all('receipts').filter((f) => f.conversationId === ward).flatMap((f) => f.receipts.filter((r) => r.accountId !== self.id));

  beforeAll(async () => {
    dan = await addPerson(server, org, 'dan');
    erin = await addPerson(server, org, 'erin');
    frank = await addPerson(server, org, 'frank');
    dan1 = await MlsDevice.create(server, dan, directory, { keyPackages: 3 });
    erin1 = await MlsDevice.create(server, erin, directory, { keyPackages: 3 });
    frank1 = await MlsDevice.create(server, frank, directory, { keyPackages: 3 });
    ward = await frank1.createConversation('group', [dan.id, erin.id]);
    for (const d of [dan1, erin1]) expect(await d.joinWelcomes()).toEqual([ward]);
  });

  it('the setting is on by default, validated by the protocol schema, and a change is audited once', async () => {
    expect((await erin1.client.get<Preferences>('/api/v1/me/preferences')).body).toEqual({ readReceipts: true });
    for (const body of [{}, { readReceipts: 'no' }, { readReceipts: 0 }, { readReceipts: null }, { readReceipts: false, extra: true }, [false]]) {
      expectError(await erin1.client.patch('/api/v1/me/preferences', body), 'VALIDATION_FAILED');
    }
    await setReadReceipts(erin1, false);
    await setReadReceipts(erin1, false); // no change: nothing to audit
    expect((await erin1.client.get<Preferences>('/api/v1/me/preferences')).body).toEqual({ readReceipts: false });
    expect((await dan1.client.get<Preferences>('/api/v1/me/preferences')).body).toEqual({ readReceipts: true });
    const audited = await auditEntriesOfType(server, org.id, 'account.read_receipts_changed');
    expect(audited.map((e) => [e.actor.accountId, e.action, e.entity, e.detail])).toEqual([[erin.id, 'U', { type: 'account', id: erin.id }, { readReceipts: false }]]);
    expect(patientMayUse('PATCH', '/api/v1/me/preferences')).toBe(true);
  });

  it('others see no read state of an account that turned it off, and it sees no one\u2019s; delivery stays honest', async () => {
    const [danSocket, erinSocket, frankSocket] = [await rig.open(dan1), await rig.open(erin1), await rig.open(frank1)];
    const seq = await frank1.send(ward, 'Handover at 7, bed 4 NBM from midnight');
    await dan1.receive(ward);
    await erin1.receive(ward);
    await markRead(dan1, seq);
    await markRead(erin1, seq); // answered like any other, and nothing is kept
    const kept = await server.deps.db.selectFrom('read_marker').select('account_id').where('conversation_id', '=', ward).execute();
    expect(kept.map((r) => r.account_id)).toEqual([dan.id]);

    // Frank (on) sees Dan's read state but not Erin's; both count as delivered.
    const seen = await receipts(frank1, ward);
    expect(seen.get(dan.id)).toMatchObject({ deliveredSeq: seq, readSeq: seq });
    expect(seen.get(dan.id)!.readAt).not.toBeNull();
    expect(seen.get(erin.id)).toEqual({ accountId: erin.id, deliveredSeq: seq, readSeq: 0, readAt: null });
    // Erin (off) sees delivery only, of everyone else.
    const erinSees = await receipts(erin1, ward);
    expect(erinSees.get(dan.id)).toEqual({ accountId: dan.id, deliveredSeq: seq, readSeq: 0, readAt: null });
    expect(erinSees.get(frank.id)!.readSeq).toBe(0);
    expect([...erinSees.values()].filter((r) => r.deliveredSeq >= seq)).toHaveLength(3);

    // Over the socket: Frank hears Dan's read marker; Erin hears the delivery, never a read.
    await frankSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === dan.id && r.readSeq === seq));
    await erinSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === dan.id && r.deliveredSeq >= seq));
    await danSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === erin.id && r.deliveredSeq >= seq));
    await erinSocket.ping(); // whatever the flush sent Erin has arrived
    expect(othersInFrames(erinSocket, erin).every((r) => r.readSeq === 0 && r.readAt === null)).toBe(true);
    expect(othersInFrames(danSocket, dan).filter((r) => r.accountId === erin.id).every((r) => r.readSeq === 0 && r.readAt === null)).toBe(true);
    expect(othersInFrames(frankSocket, frank).filter((r) => r.accountId === erin.id).every((r) => r.readSeq === 0 && r.readAt === null)).toBe(true);
    for (const s of [danSocket, erinSocket, frankSocket]) expect(s.invalidFrames).toEqual([]);
  });

  it('turning it off hides a read state shown before, turning it on shows it again, and members hear both', async () => {
    const frankSocket = await rig.open(frank1);
    const erinSocket = await rig.open(erin1);
    const { lastSeq } = (await frank1.client.get<Conversation>(`/api/v1/conversations/${ward}`)).body;
    expect((await receipts(frank1, ward)).get(dan.id)!.readSeq).toBe(lastSeq);

    await setReadReceipts(dan1, false);
    await frankSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === dan.id && r.readSeq === 0 && r.deliveredSeq === lastSeq));
    expect((await receipts(frank1, ward)).get(dan.id)).toEqual({ accountId: dan.id, deliveredSeq: lastSeq, readSeq: 0, readAt: null });
    // Dan still sees his own position; no one else's.
    const danSees = await receipts(dan1, ward);
    expect(danSees.get(dan.id)!.readSeq).toBe(lastSeq);
    expect(danSees.get(frank.id)!.readAt).toBeNull();

    await setReadReceipts(dan1, true);
    await frankSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === dan.id && r.readSeq === lastSeq));

    // Erin turns it back on: from her next read on she shows it, and she sees Dan's again.
    await setReadReceipts(erin1, true);
    await erinSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === dan.id && r.readSeq === lastSeq));
    expect((await receipts(erin1, ward)).get(dan.id)!.readSeq).toBe(lastSeq);
    expect((await receipts(frank1, ward)).get(erin.id)!.readSeq).toBe(0);
    await markRead(erin1, lastSeq);
    await frankSocket.next('receipts', (f) => f.conversationId === ward && f.receipts.some((r) => r.accountId === erin.id && r.readSeq === lastSeq));
    const audited = await auditEntriesOfType(server, org.id, 'account.read_receipts_changed');
    expect(audited.map((e) => [e.actor.accountId, e.detail.readReceipts])).toEqual([
      [erin.id, false],
      [dan.id, false],
      [dan.id, true],
      [erin.id, true],
    ]);
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
