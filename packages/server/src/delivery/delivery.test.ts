import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitUpdate, confirmCommit, createDeviceIdentity, deviceCredential, discardCommit, generateKeyPackages, processMessage, type DeviceIdentity } from '@consilium/crypto';
import { MAX_MLS_MESSAGE_BYTES, type Conversation, type StoredMessage } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import {
  addPerson,
  b64,
  DeviceDirectory,
  fromB64,
  MlsDevice,
  seedMessagingCast,
  signInPerson,
  startMessagingRig,
  syncAll,
  utf8,
  type MessagingRig,
  type Organisation,
  type Person,
} from '../test-support/mls-client.js';
import type { DeliveryEvent } from './fan-out.js';

// The MLS Delivery Service end to end: real server, real database (SQLite, or PostgreSQL with
// CONSILIUM_TEST_PG), and devices that run the real MLS library over the real HTTP API.

let rig: MessagingRig;
let server: TestServer;
let org: Organisation;
const directory = new DeviceDirectory();

let alice: Person;
let bob: Person;
let carol: Person;
let mallory: Person; // of another organisation
let alice1: MlsDevice;
let alice2: MlsDevice;
let bob1: MlsDevice;
let carol1: MlsDevice;
let mallory1: MlsDevice;

/** The group of three people (Alice on two devices), shared by the tests that only read it. */
let group: string;

beforeAll(async () => {
  rig = await startMessagingRig();
  server = rig.server;
  ({ org, alice, bob, carol, mallory } = await seedMessagingCast(server));
  alice1 = await MlsDevice.create(server, alice, directory, { name: 'Alice laptop', keyPackages: 5 });
  alice2 = await MlsDevice.create(server, alice, directory, { name: 'Alice phone', keyPackages: 5 });
  bob1 = await MlsDevice.create(server, bob, directory, { keyPackages: 5 });
  carol1 = await MlsDevice.create(server, carol, directory, { keyPackages: 5 });
  mallory1 = await MlsDevice.create(server, mallory, directory, { keyPackages: 5 });
  group = await alice1.createConversation('group', [bob.id, carol.id]);
  for (const d of [alice2, bob1, carol1]) expect(await d.joinWelcomes()).toEqual([group]);
});
afterAll(() => rig?.stop());

/** Sends `texts` round-robin from the devices; returns [sender, text, seq] in send order. */
async function exchange(conversationId: string, senders: MlsDevice[], rounds: number, label: string) {
  const sent: { from: MlsDevice; text: string; seq: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const from of senders) {
      const text = `${label} round ${r} from ${from.deviceId.slice(0, 8)}: BP 120/80, start heparin ${randomBytes(4).toString('hex')}`;
      sent.push({ from, text, seq: await from.send(conversationId, text) });
    }
  }
  return sent;
}

/** What `device` must have decrypted: every text of the others, in sequence order. */
function expectedFor(device: MlsDevice, sent: { from: MlsDevice; text: string; seq: number }[]) {
  return sent.filter((s) => s.from !== device).sort((a, b) => a.seq - b.seq).map((s) => s.text);
}

async function conversationAs(device: MlsDevice, id: string): Promise<Conversation> {
  const r = await device.client.get<Conversation>(`/api/v1/conversations/${id}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function storedRows(conversationId: string) {
  return server.deps.db.selectFrom('mls_message').selectAll().where('conversation_id', '=', conversationId).orderBy('seq').execute();
}

describe('conversations between devices', () => {
  it('1:1: both people decrypt every message of the other, in order', async () => {
    const direct = await bob1.createConversation('direct', [carol.id]);
    expect(await carol1.joinWelcomes()).toEqual([direct]);
    const sent = await exchange(direct, [bob1, carol1, carol1, bob1], 2, '1:1');
    await syncAll([bob1, carol1], direct);
    expect(bob1.texts(direct)).toEqual(expectedFor(bob1, sent));
    expect(carol1.texts(direct)).toEqual(expectedFor(carol1, sent));
    // The conversation as the server describes it to each of them.
    const seen = await conversationAs(carol1, direct);
    expect(seen.kind).toBe('direct');
    expect(seen.members.map((m) => m.accountId).sort()).toEqual([bob.id, carol.id].sort());
    expect(seen.epoch).toBe(1);
    expect(seen.lastSeq).toBe(1 + sent.length);
    expect(seen.ackedSeq).toBe(seen.lastSeq);
    // A second direct conversation with the same person is refused.
    expectError(await carol1.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'direct', memberAccountIds: [bob.id] }), 'CONFLICT');
  });

  it('a group of three people, one on two devices: every device decrypts every message, in order', async () => {
    const sent = await exchange(group, [alice1, bob1, alice2, carol1], 3, 'group');
    await syncAll([alice1, alice2, bob1, carol1], group);
    for (const d of [alice1, alice2, bob1, carol1]) {
      expect(d.texts(group), d.person.displayName).toEqual(expectedFor(d, sent));
      const seqs = d.view(group).received.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      // Senders as MLS authenticated them match what the server said.
      for (const m of d.view(group).received.filter((x) => x.kind === 'application')) {
        expect(sent.find((s) => s.seq === m.seq)!.from.deviceId).toBe(m.senderDeviceId);
      }
    }
    // Alice's two devices are two leaves; everyone agrees on the tree.
    const members = (d: MlsDevice) => d.members(group).map((m) => `${m.userId}/${m.deviceId}`).sort();
    expect(members(alice1)).toHaveLength(4);
    for (const d of [alice2, bob1, carol1]) expect(members(d)).toEqual(members(alice1));
    const described = await conversationAs(bob1, group);
    expect(described.members.find((m) => m.accountId === alice.id)!.devices.map((x) => x.deviceId).sort()).toEqual([alice1.deviceId, alice2.deviceId].sort());
  });

  it('the server stores only ciphertext: no plaintext in any row, in clear or base64', async () => {
    const secrets = [`Patient in bed 7: troponin ${randomBytes(6).toString('hex')}`, `MRN ${randomBytes(6).toString('hex')} allergic to penicillin`];
    await alice1.send(group, secrets[0]!);
    await carol1.send(group, secrets[1]!);
    await syncAll([alice1, alice2, bob1, carol1], group);
    expect(bob1.texts(group).slice(-2)).toEqual(secrets);

    const rows = await storedRows(group);
    expect(rows.length).toBeGreaterThan(2);
    const welcomes = await server.deps.db.selectFrom('welcome').selectAll().where('conversation_id', '=', group).execute();
    for (const row of [...rows, ...welcomes]) {
      const dump = JSON.stringify(row);
      const body = Buffer.from(row.body, 'base64');
      for (const s of secrets) {
        for (const needle of [s, s.slice(-12), b64(utf8(s))]) expect(dump).not.toContain(needle);
        expect(body.includes(Buffer.from(s))).toBe(false);
        expect(body.includes(Buffer.from(s.slice(-12)))).toBe(false);
      }
    }
    // The clear metadata the server needs is there.
    const last = rows.at(-1)!;
    expect(last.kind).toBe('application');
    expect(last.sender_device_id).toBe(carol1.deviceId);
  });
});

describe('commit ordering', () => {
  it('two devices commit for the same epoch: one gets 200, the other STALE_EPOCH, rebases and succeeds', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const epoch = Number(alice2.state(group).epoch);
    expect(Number(bob1.state(group).epoch)).toBe(epoch);
    const contenders = [alice2, bob1];
    const commits = await Promise.all(contenders.map((d) => commitUpdate(d.state(group))));
    const replies = await Promise.all(
      contenders.map((d, i) =>
        d.submit(group, { clientMessageId: crypto.randomUUID(), kind: 'commit', epoch, body: b64(commits[i]!.commit) }),
      ),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = replies[0]!.status === 200 ? 0 : 1;
    const loser = 1 - winner;
    expectError(replies[loser]!, 'STALE_EPOCH');
    expect(replies[winner]!.body.epoch).toBe(epoch + 1);
    contenders[winner]!.view(group).state = confirmCommit(commits[winner]!.newState);
    const l = contenders[loser]!;
    l.view(group).state = discardCommit(commits[loser]!.newState);

    // The loser processes the winner, then commits again in the new epoch.
    const caughtUp = await l.receive(group);
    expect(caughtUp.map((m) => m.kind)).toEqual(['commit']);
    expect(caughtUp[0]!.senderDeviceId).toBe(contenders[winner]!.deviceId);
    const retry = await l.commit(group, (s) => commitUpdate(s), {});
    expect(retry.reply.status).toBe(200);
    expect(retry.rebases).toBe(0);
    expect(retry.reply.body.epoch).toBe(epoch + 2);

    // The group is whole: everyone at the same epoch, and a message from the loser reads everywhere.
    const text = 'after the race';
    await l.send(group, text);
    await syncAll([alice1, alice2, bob1, carol1], group);
    for (const d of [alice1, alice2, bob1, carol1]) {
      expect(Number(d.state(group).epoch)).toBe(epoch + 2);
      if (d !== l) expect(d.texts(group).at(-1)).toBe(text);
    }
    expect((await conversationAs(carol1, group)).epoch).toBe(epoch + 2);
  });

  it('the client helper rebases by itself when it loses the race', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    // Carol commits first; Bob, still at the old epoch, is refused, catches up and commits again.
    expect((await carol1.commit(group, (s) => commitUpdate(s), {})).reply.status).toBe(200);
    const outcome = await bob1.commit(group, (s) => commitUpdate(s), {});
    expect(outcome.reply.status).toBe(200);
    expect(outcome.rebases).toBe(1);
    await syncAll([alice1, alice2, bob1, carol1], group);
    const epochs = [alice1, alice2, bob1, carol1].map((d) => Number(d.state(group).epoch));
    expect(new Set(epochs).size).toBe(1);
  });
});

describe('messages the Delivery Service refuses', () => {
  it('an application message for a far-stale epoch gets STALE_EPOCH; one a single epoch behind is relayed', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const before = await conversationAs(bob1, group);
    const old = await bob1.encrypt(group, 'written before four commits');
    const recent = [];
    for (let i = 0; i < 4; i++) {
      if (i === 3) recent.push(await bob1.encrypt(group, 'written one epoch back'));
      expect((await bob1.commit(group, (s) => commitUpdate(s), {})).reply.status).toBe(200);
    }
    const stale = await bob1.submit(group, old);
    expectError(stale, 'STALE_EPOCH');
    expect((await conversationAs(bob1, group)).lastSeq).toBe(before.lastSeq + 4);

    const ok = await bob1.submit(group, recent[0]!);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await syncAll([alice1, alice2, bob1, carol1], group);
    for (const d of [alice1, alice2, carol1]) expect(d.texts(group).at(-1)).toBe('written one epoch back');
  });

  it('garbage, another group, a wrong declared epoch, and a kind that disagrees with the content: INVALID_MLS_MESSAGE, nothing stored', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const other = await alice1.createConversation('group', [bob.id]);
    await bob1.joinWelcomes();
    const lastSeq = (await conversationAs(alice1, group)).lastSeq;
    const epoch = Number(alice1.state(group).epoch);
    const base = { clientMessageId: crypto.randomUUID(), kind: 'application' as const, epoch };

    // Random bytes, an empty body, and a well-formed MLS message that is not a PrivateMessage (a Welcome).
    expectError(await alice1.submit(group, { ...base, body: b64(randomBytes(200)) }), 'INVALID_MLS_MESSAGE');
    expectError(await alice1.submit(group, { ...base, body: '' }), 'INVALID_MLS_MESSAGE');
    const welcome = (await server.deps.db.selectFrom('welcome').select('body').where('conversation_id', '=', group).executeTakeFirstOrThrow()).body;
    expectError(await alice1.submit(group, { ...base, body: welcome }), 'INVALID_MLS_MESSAGE');

    // A real message of another group (Alice is a member of both).
    const foreign = await alice1.encrypt(other, 'for the other group');
    expectError(await alice1.submit(group, { ...foreign, epoch }), 'INVALID_MLS_MESSAGE');

    // Right group, but the declared epoch is not the one in the header.
    const real = await alice1.encrypt(group, 'declared with the wrong epoch');
    expectError(await alice1.submit(group, { ...real, epoch: epoch + 1 }), 'INVALID_MLS_MESSAGE');
    expectError(await alice1.submit(group, { ...real, epoch: Math.max(0, epoch - 1) }), 'INVALID_MLS_MESSAGE');

    // An application message declared as a commit, and a commit declared as an application message.
    expectError(await alice1.submit(group, { ...real, kind: 'commit' }), 'INVALID_MLS_MESSAGE');
    const commit = await commitUpdate(alice1.state(group));
    expectError(await alice1.submit(group, { ...base, body: b64(commit.commit) }), 'INVALID_MLS_MESSAGE');
    alice1.view(group).state = discardCommit(commit.newState);

    // A commit whose Welcome is garbage.
    const add = await commitUpdate(alice1.state(group));
    expectError(
      await alice1.submit(group, { clientMessageId: crypto.randomUUID(), kind: 'commit', epoch, body: b64(add.commit), welcome: b64(randomBytes(100)) }),
      'INVALID_MLS_MESSAGE',
    );
    alice1.view(group).state = discardCommit(add.newState);

    // Nothing of it was stored or moved the conversation; the sender's state still works.
    const after = await conversationAs(alice1, group);
    expect(after.lastSeq).toBe(lastSeq);
    expect(after.epoch).toBe(epoch);
    expect((await storedRows(group)).length).toBe(lastSeq);
    await alice1.send(group, 'still fine');
    await syncAll([alice1, alice2, bob1, carol1], group);
    for (const d of [alice2, bob1, carol1]) expect(d.texts(group).at(-1)).toBe('still fine');
  });

  it('a body over the message limit is refused before any MLS work (400), one over the route limit with 413', async () => {
    const lastSeq = (await conversationAs(bob1, group)).lastSeq;
    const over = { clientMessageId: crypto.randomUUID(), kind: 'application' as const, epoch: 0, body: b64(randomBytes(MAX_MLS_MESSAGE_BYTES + 3)) };
    expectError(await bob1.submit(group, over), 'VALIDATION_FAILED');
    const raw = JSON.stringify({ ...over, body: 'A'.repeat(2 * 1024 * 1024 + 4) });
    const bigger = await bob1.client.request('POST', `/api/v1/conversations/${group}/messages`, undefined, { raw });
    expectError(bigger, 'PAYLOAD_TOO_LARGE');
    expect((await conversationAs(bob1, group)).lastSeq).toBe(lastSeq);
  });

  it('the same clientMessageId sent again gets the same seq and stores no second copy', async () => {
    const message = await carol1.encrypt(group, 'sent twice, stored once');
    const first = await carol1.submit(group, message);
    expect(first.status).toBe(200);
    const again = await carol1.submit(group, message);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const rows = (await storedRows(group)).filter((r) => r.client_message_id === message.clientMessageId);
    expect(rows).toHaveLength(1);
    expect((await conversationAs(carol1, group)).lastSeq).toBe(first.body.seq);
    // Another device cannot take over the id.
    expectError(await bob1.submit(group, { ...(await bob1.encrypt(group, 'x')), clientMessageId: message.clientMessageId }), 'CONFLICT');
    await syncAll([alice1, alice2, bob1, carol1], group);
    expect(alice1.texts(group).filter((t) => t === 'sent twice, stored once')).toHaveLength(1);
  });

  it('a retried commit gets its first answer again, not STALE_EPOCH', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const epoch = Number(alice2.state(group).epoch);
    const made = await commitUpdate(alice2.state(group));
    const body = { clientMessageId: crypto.randomUUID(), kind: 'commit' as const, epoch, body: b64(made.commit) };
    const first = await alice2.submit(group, body);
    expect(first.status).toBe(200);
    alice2.view(group).state = confirmCommit(made.newState);
    const again = await alice2.submit(group, body);
    await syncAll([alice1, alice2, bob1, carol1], group);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it('the same message sent twice at once (a retry racing the original) is stored once and both get its seq', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const message = await alice1.encrypt(group, 'retried while in flight');
    const replies = await Promise.all([1, 2, 3, 4].map(() => alice1.submit(group, message)));
    for (const r of replies) expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(new Set(replies.map((r) => r.body.seq)).size).toBe(1);
    expect((await storedRows(group)).filter((r) => r.client_message_id === message.clientMessageId)).toHaveLength(1);
    await syncAll([alice1, alice2, bob1, carol1], group);
  });

  it('a commit sent twice at once is accepted once and both copies get its seq (no STALE_EPOCH for the retry)', async () => {
    await syncAll([alice1, alice2, bob1, carol1], group);
    const epoch = Number(carol1.state(group).epoch);
    const made = await commitUpdate(carol1.state(group));
    const body = { clientMessageId: crypto.randomUUID(), kind: 'commit' as const, epoch, body: b64(made.commit) };
    const replies = await Promise.all([1, 2, 3, 4].map(() => carol1.submit(group, body)));
    // Whatever the server answered, the commit is in: carol must confirm, or her state forks from the group.
    carol1.view(group).state = confirmCommit(made.newState);
    await syncAll([alice1, alice2, bob1, carol1], group);
    for (const r of replies) expect(r.status, JSON.stringify(r.body)).toBe(200);
    for (const r of replies) expect(r.body).toEqual(replies[0]!.body);
  });

  it('a device that is not in the conversation gets NOT_A_MEMBER (403) for sending and reading', async () => {
    const dora = await addPerson(server, org, 'dora');
    const dora1 = await MlsDevice.create(server, dora, directory);
    const conversation = await bob1.createConversation('group', [dora.id]);
    await dora1.joinWelcomes();
    // Dora's second device is registered after the add: her person is a member, this device is not.
    const dora2 = await MlsDevice.create(server, dora, directory);
    const message = await dora1.encrypt(conversation, 'from a device that is in');
    expectError(await dora2.submit(conversation, { ...message, clientMessageId: crypto.randomUUID() }), 'NOT_A_MEMBER');
    expectError(await dora2.fetch(conversation, 0), 'NOT_A_MEMBER');
    // Once added, it reads what comes after its Welcome.
    const added = await bob1.addDevicesOf(conversation, [dora.id]);
    expect(added.outcome!.reply.status).toBe(200);
    expect(await dora2.joinWelcomes()).toEqual([conversation]);
    await bob1.send(conversation, 'welcome, second device');
    expect((await dora2.receive(conversation)).map((m) => m.text)).toEqual(['welcome, second device']);
  });

  it('a session without a device cannot send or read (DEVICE_REQUIRED)', async () => {
    const bare = await signInPerson(server, carol);
    expectError(await bare.post(`/api/v1/conversations/${group}/messages`, { clientMessageId: crypto.randomUUID(), kind: 'application', epoch: 0, body: '' }), 'DEVICE_REQUIRED');
    expectError(await bare.get(`/api/v1/conversations/${group}/messages`), 'DEVICE_REQUIRED');
    expectError(await bare.get('/api/v1/welcomes'), 'DEVICE_REQUIRED');
  });
});

describe('another organisation', () => {
  it('its people cannot be put in a conversation, nor their key packages claimed (404)', async () => {
    const before = await conversationAs(alice1, group);
    expectError(await alice1.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'direct', memberAccountIds: [mallory.id] }), 'NOT_FOUND');
    expectError(await alice1.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'group', memberAccountIds: [bob.id, mallory.id] }), 'NOT_FOUND');
    expectError(await alice1.client.post(`/api/v1/conversations/${group}/members`, { accountIds: [mallory.id] }), 'NOT_FOUND');
    expectError(await alice1.claim([mallory.id]), 'NOT_FOUND');
    expectError(await alice1.claim([bob.id, mallory.id]), 'NOT_FOUND');
    // Nor added by device id in a commit.
    const made = await commitUpdate(alice1.state(group));
    const smuggle = await alice1.submit(group, {
      clientMessageId: crypto.randomUUID(),
      kind: 'commit',
      epoch: before.epoch,
      body: b64(made.commit),
      welcome: (await server.deps.db.selectFrom('welcome').select('body').where('conversation_id', '=', group).executeTakeFirstOrThrow()).body,
      addedDeviceIds: [mallory1.deviceId],
    });
    alice1.view(group).state = discardCommit(made.newState);
    expectError(smuggle, 'NOT_A_MEMBER');
    const after = await conversationAs(alice1, group);
    expect(after.members.map((m) => m.accountId)).not.toContain(mallory.id);
    expect(after.lastSeq).toBe(before.lastSeq);
    // The directory does not show them either.
    const people = (await alice1.client.get('/api/v1/directory?q=mallory')).body.people;
    expect(people).toEqual([]);
    // Mallory's one-time key packages are all still there.
    const devices = (await mallory1.client.get('/api/v1/devices')).body.devices;
    expect(devices[0].unclaimedKeyPackages).toBe(5);
  });

  it('they cannot read, send to, acknowledge or even see a conversation (404)', async () => {
    expectError(await mallory1.client.get(`/api/v1/conversations/${group}`), 'NOT_FOUND');
    expectError(await mallory1.fetch(group, 0), 'NOT_FOUND');
    expectError(await mallory1.ack(group, 1), 'NOT_FOUND');
    expectError(await mallory1.submit(group, { clientMessageId: crypto.randomUUID(), kind: 'application', epoch: 0, body: b64(randomBytes(64)) }), 'NOT_FOUND');
    expectError(await mallory1.client.delete(`/api/v1/conversations/${group}/members/${bob.id}`), 'NOT_FOUND');
    expect((await mallory1.client.get('/api/v1/conversations')).body.conversations).toEqual([]);
    expect((await mallory1.client.get('/api/v1/welcomes')).body.welcomes).toEqual([]);
  });
});

describe('key packages', () => {
  it('each one-time key package is handed out once, then the last-resort one (lastResort: true)', async () => {
    const henry = await addPerson(server, org, 'henry');
    const henry1 = await MlsDevice.create(server, henry, directory, { keyPackages: 2 });
    const ours = new Set(henry1.secrets.map((s) => b64(s.keyPackage)));
    const lastResort = b64(henry1.secrets.find((s) => s.lastResort)!.keyPackage);
    const claims = [];
    for (let i = 0; i < 4; i++) {
      const r = await (i % 2 ? bob1 : carol1).claim([henry.id]);
      expect(r.status).toBe(200);
      expect(r.body.missing).toEqual([]);
      expect(r.body.keyPackages).toHaveLength(1);
      claims.push(r.body.keyPackages[0]!);
    }
    expect(claims.map((c) => c.deviceId)).toEqual(Array(4).fill(henry1.deviceId));
    expect(claims.map((c) => c.lastResort)).toEqual([false, false, true, true]);
    expect(claims[0]!.keyPackage).not.toBe(claims[1]!.keyPackage);
    for (const c of claims) expect(ours.has(c.keyPackage)).toBe(true);
    expect(claims[2]!.keyPackage).toBe(lastResort);
    expect(claims[3]!.keyPackage).toBe(lastResort);
    const listed = (await henry1.client.get('/api/v1/devices')).body.devices;
    expect(listed.find((d: { id: string }) => d.id === henry1.deviceId).unclaimedKeyPackages).toBe(0);

    // A device with nothing left at all is reported missing, not skipped silently.
    const ivan = await addPerson(server, org, 'ivan');
    const ivan1 = await MlsDevice.create(server, ivan, directory, { keyPackages: 0, lastResort: false });
    const none = await bob1.claim([ivan.id]);
    expect(none.body).toEqual({ keyPackages: [], missing: [{ accountId: ivan.id, deviceId: ivan1.deviceId }] });
  });

  it('two claimers at once never get the same one-time key package', async () => {
    const jane = await addPerson(server, org, 'jane');
    const jane1 = await MlsDevice.create(server, jane, directory, { keyPackages: 6 });
    const replies = await Promise.all([bob1, carol1, alice1, alice2, bob1, carol1].map((d) => d.claim([jane.id])));
    const handed = replies.map((r) => r.body.keyPackages[0]!);
    expect(handed.every((k) => !k.lastResort)).toBe(true);
    expect(new Set(handed.map((k) => k.keyPackage)).size).toBe(6);
    expect(jane1.secrets).toHaveLength(7);
  });

  it('uploads whose credential names another device or account, or another key, are refused (400)', async () => {
    const kate = await addPerson(server, org, 'kate');
    const kate1 = await MlsDevice.create(server, kate, directory, { keyPackages: 1 });
    const forge = async (identity: DeviceIdentity, options: { lastResort?: boolean } = {}) =>
      b64((await generateKeyPackages(identity, { count: 1, lastResort: false, ...options })).published[0]!.keyPackage);
    const asOther = (ref: { userId: string; deviceId: string }): DeviceIdentity => ({ ...kate1.identity, ...ref, credential: deviceCredential(ref) });
    const upload = (keyPackages: string[], lastResort?: string) =>
      kate1.client.post('/api/v1/devices/current/key-packages', { keyPackages, ...(lastResort && { lastResort }) });

    // Signed with this device's key, but naming another device of the same person, another person's device, or another person.
    expectError(await upload([await forge(asOther({ userId: kate.id, deviceId: crypto.randomUUID() }))]), 'VALIDATION_FAILED');
    expectError(await upload([await forge(asOther({ userId: bob.id, deviceId: bob1.deviceId }))]), 'VALIDATION_FAILED');
    expectError(await upload([await forge(asOther({ userId: bob.id, deviceId: kate1.deviceId }))]), 'VALIDATION_FAILED');
    // Bob's genuine key package, uploaded by Kate's device.
    expectError(await upload([await forge(bob1.identity)]), 'VALIDATION_FAILED');
    // Naming this device, but signed with another key.
    const otherKey = await createDeviceIdentity({ userId: kate.id, deviceId: kate1.deviceId });
    expectError(await upload([await forge(otherKey)]), 'VALIDATION_FAILED');
    // A last-resort key package among the one-time ones, and a one-time one as last resort.
    const lastResort = b64((await generateKeyPackages(kate1.identity, { count: 0, lastResort: true })).published[0]!.keyPackage);
    expectError(await upload([lastResort]), 'VALIDATION_FAILED');
    expectError(await upload([], await forge(kate1.identity)), 'VALIDATION_FAILED');
    // Garbage.
    expectError(await upload([b64(randomBytes(300))]), 'VALIDATION_FAILED');
    // One bad key package spoils the batch: none of it is stored.
    expectError(await upload([await forge(kate1.identity), await forge(asOther({ userId: bob.id, deviceId: bob1.deviceId }))]), 'VALIDATION_FAILED');
    const listed = (await kate1.client.get('/api/v1/devices')).body.devices;
    expect(listed[0].unclaimedKeyPackages).toBe(1);
    // Control: a genuine one is accepted.
    expect((await upload([await forge(kate1.identity)])).status).toBe(200);
  });
});

describe('removing people and devices', () => {
  it("a removed person's device gets nothing after the removal commit and cannot decrypt what follows", async () => {
    const leo = await addPerson(server, org, 'leo');
    const leo1 = await MlsDevice.create(server, leo, directory);
    const ward = await alice1.createConversation('group', [bob.id, leo.id]);
    for (const d of [alice2, bob1, leo1]) await d.joinWelcomes();
    await alice1.send(ward, 'before the removal');
    await syncAll([alice2, bob1, leo1], ward);
    expect(leo1.texts(ward)).toEqual(['before the removal']);
    const leoSocket = await leo1.socket();
    await leoSocket.next('ready');
    const leoState = leo1.state(ward);

    const removal = await alice1.removePerson(ward, leo.id);
    expect(removal.reply.status).toBe(200);
    const removalSeq = removal.seq!;
    await syncAll([alice2, bob1], ward);
    const after = ['after the removal 1', 'after the removal 2'];
    for (const t of after) await bob1.send(ward, t);
    await syncAll([alice1, alice2, bob1], ward);
    for (const d of [alice1, alice2]) expect(d.texts(ward).slice(-2)).toEqual(after);
    expect(bob1.members(ward).map((m) => m.userId)).not.toContain(leo.id);

    // The server hands Leo nothing: no fetch, no push, and the conversation is gone for him.
    expectError(await leo1.fetch(ward, 0), 'NOT_FOUND');
    expectError(await leo1.client.get(`/api/v1/conversations/${ward}`), 'NOT_FOUND');
    expect((await leo1.client.get('/api/v1/conversations')).body.conversations.map((c: Conversation) => c.id)).not.toContain(ward);
    await leoSocket.ping(); // frames for Leo, had there been any, were written before this pong
    expect(leoSocket.all('message').filter((f) => f.message.conversationId === ward && f.message.seq >= removalSeq)).toEqual([]);
    await leoSocket.close();

    // Forward secrecy: even with the ciphertexts (say, from a backup of the server), Leo's last
    // state decrypts none of the later messages, and the removal commit tells it it is out.
    const rows = (await storedRows(ward)).filter((r) => r.seq > removalSeq);
    expect(rows).toHaveLength(2);
    for (const row of rows) await expect(processMessage(leoState, fromB64(row.body))).rejects.toMatchObject({ name: 'MlsError' });
    const commitRow = (await storedRows(ward)).find((r) => r.seq === removalSeq)!;
    const processed = await processMessage(leoState, fromB64(commitRow.body));
    expect(processed.kind).toBe('commit');
    expect(processed.kind === 'commit' && processed.removedSelf).toBe(true);
    for (const row of rows) await expect(processMessage(processed.newState, fromB64(row.body))).rejects.toMatchObject({ name: 'MlsError', code: 'NOT_A_MEMBER' });
  });

  it('after a removal commit, a message still encrypted in an epoch the removed device holds is refused (STALE_EPOCH)', async () => {
    const max = await addPerson(server, org, 'max');
    const max1 = await MlsDevice.create(server, max, directory);
    const ward = await alice1.createConversation('group', [bob.id, max.id]);
    for (const d of [alice2, bob1, max1]) await d.joinWelcomes();
    await syncAll([alice1, alice2, bob1, max1], ward);
    const maxState = max1.state(ward);
    const removal = await alice1.removePerson(ward, max.id);
    expect(removal.reply.status).toBe(200);
    // Bob has not fetched the removal yet: his client encrypts for the epoch Max still has keys for.
    const late = await bob1.encrypt(ward, 'sent by someone who had not seen the removal');
    const reply = await bob1.submit(ward, late);
    // Relayed, this ciphertext opens with the removed device's keys: the server must make Bob
    // catch up (process the removal) and encrypt again.
    const readableByMax = await processMessage(maxState, fromB64(late.body)).then(
      (p) => (p.kind === 'application' ? new TextDecoder().decode(p.plaintext) : null),
      () => null,
    );
    expect(readableByMax).toBe('sent by someone who had not seen the removal');
    expectError(reply, 'STALE_EPOCH');
  });

  it('a member who is not an admin cannot cut another member off with a commit that removes their device', async () => {
    const mia = await addPerson(server, org, 'mia');
    const mia1 = await MlsDevice.create(server, mia, directory);
    const ward = await alice1.createConversation('group', [bob.id, mia.id]);
    for (const d of [alice2, bob1, mia1]) await d.joinWelcomes();
    expectError(await bob1.client.delete(`/api/v1/conversations/${ward}/members/${mia.id}`), 'FORBIDDEN');
    // Bob tries the same through the MLS layer: a commit removing Mia's device while she is a member.
    const outcome = await bob1.removeDevices(ward, [mia1.ref], { rebase: false });
    expectError(outcome.reply, 'FORBIDDEN');
    // Mia still gets what is sent.
    await alice1.send(ward, 'are you still there, Mia?');
    expect((await mia1.receive(ward)).map((m) => m.text)).toEqual(['are you still there, Mia?']);
  });

  it('revoking a device ends its session (401), closes its socket, and excludes it from delivery', async () => {
    const nina = await addPerson(server, org, 'nina');
    const nina1 = await MlsDevice.create(server, nina, directory, { name: 'Nina desktop' });
    const nina2 = await MlsDevice.create(server, nina, directory, { name: 'Nina lost phone' });
    const ward = await bob1.createConversation('group', [nina.id]);
    for (const d of [nina1, nina2]) expect(await d.joinWelcomes()).toEqual([ward]);
    await bob1.send(ward, 'before the revocation');
    await syncAll([nina1, nina2], ward);
    expect(nina2.texts(ward)).toEqual(['before the revocation']);
    const socket = await nina2.socket();
    await socket.next('ready');
    const pushed: DeliveryEvent[] = [];
    const unsubscribe = server.deps.fanOut.subscribe(nina2.deviceId, (e) => pushed.push(e));
    const lostState = nina2.state(ward);

    expect((await nina1.client.delete(`/api/v1/devices/${nina2.deviceId}`)).status).toBe(200);
    // Its socket is told and closed; its session is over.
    const error = await socket.next('error');
    expect(error.code).toBe('DEVICE_REVOKED');
    expect((await socket.whenClosed).code).toBe(4401);
    expectError(await nina2.client.get('/api/v1/devices'), 'UNAUTHENTICATED');
    expectError(await nina2.fetch(ward, 0), 'UNAUTHENTICATED');
    await expect(nina2.socket()).rejects.toMatchObject({ status: 401 });
    // It cannot be brought back on a new session.
    const reattach = await nina2.attach();
    expectError(reattach, 'DEVICE_REVOKED');
    pushed.length = 0;

    // The server lists only Nina's live device, and stops delivering to the revoked one at once.
    const described = await conversationAs(bob1, ward);
    expect(described.members.find((m) => m.accountId === nina.id)!.devices.map((d) => d.deviceId)).toEqual([nina1.deviceId]);
    await bob1.send(ward, 'between revocation and removal');
    // Bob's client removes the revoked leaf.
    const removal = await bob1.removeDevices(ward, [nina2.ref]);
    expect(removal.reply.status).toBe(200);
    await bob1.send(ward, 'after the removal');
    const ninaGot = await nina1.receive(ward);
    expect(ninaGot.filter((m) => m.text).map((m) => m.text)).toEqual(['between revocation and removal', 'after the removal']);
    expect(nina1.members(ward).map((m) => m.deviceId)).not.toContain(nina2.deviceId);
    expect(pushed.filter((e) => e.type !== 'revoked')).toEqual([]);
    unsubscribe();
    const seat = await server.deps.db.selectFrom('conversation_device').selectAll().where('device_id', '=', nina2.deviceId).executeTakeFirstOrThrow();
    expect(Number(seat.removed_seq)).toBe(removal.seq);

    // And the revoked device's keys open nothing sent after its removal.
    const later = (await storedRows(ward)).filter((r) => r.seq > removal.seq!);
    expect(later).toHaveLength(1);
    await expect(processMessage(lostState, fromB64(later[0]!.body))).rejects.toMatchObject({ name: 'MlsError' });
  });
});

describe('delivery cursor', () => {
  it('an offline device catches up in order from its acknowledged cursor after reconnecting', async () => {
    const ward = await alice1.createConversation('group', [bob.id, carol.id]);
    for (const d of [alice2, bob1, carol1]) await d.joinWelcomes();
    const sent = await exchange(ward, [alice1, bob1, alice2], 3, 'offline');
    // Carol reads the first four, acknowledges them, and goes away.
    const firstFour = await carol1.receive(ward, { limit: 2, max: 4, ack: true });
    expect(firstFour.map((m) => m.text)).toEqual(sent.slice(0, 4).map((s) => s.text));
    const ackedSeq = carol1.view(ward).cursor;
    expect(ackedSeq).toBe(sent[3]!.seq);
    const more = await exchange(ward, [bob1, alice1], 2, 'while away');

    // Reconnecting, the device asks the server where it was, and reads from there in order.
    const described = await conversationAs(carol1, ward);
    expect(described.ackedSeq).toBe(ackedSeq);
    expect(described.lastSeq).toBe(more.at(-1)!.seq);
    const page = await carol1.fetch(ward, described.ackedSeq, 3);
    expect(page.body.messages.map((m: StoredMessage) => m.seq)).toEqual([ackedSeq + 1, ackedSeq + 2, ackedSeq + 3]);
    const rest = await carol1.receive(ward, { limit: 3 });
    expect(rest.map((m) => m.text)).toEqual([...sent.slice(4), ...more].map((s) => s.text));
    expect((await conversationAs(carol1, ward)).ackedSeq).toBe(described.lastSeq);
  });

  it('the cursor never moves back, nor beyond the last message', async () => {
    const ward = await bob1.createConversation('group', [carol.id]);
    await carol1.joinWelcomes();
    await bob1.send(ward, 'one');
    await bob1.send(ward, 'two');
    await carol1.receive(ward);
    const last = (await conversationAs(carol1, ward)).lastSeq;
    expect((await carol1.ack(ward, 1)).status).toBe(200);
    expect((await conversationAs(carol1, ward)).ackedSeq).toBe(last);
    expectError(await carol1.ack(ward, last + 1), 'VALIDATION_FAILED');
    expect((await conversationAs(carol1, ward)).ackedSeq).toBe(last);
  });
});
