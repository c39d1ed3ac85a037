import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedKeyPackages } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation, startMessagingServer, type Person } from '../test-support/mls-client.js';

// A person's new or revoked device reaches the clients of everyone they share a conversation with,
// who then add its leaf (claiming only that device's key package) or remove it.

let server: TestServer;
let alice: Person;
let bob: Person;
let carol: Person;
const directory = new DeviceDirectory();
let alice1: MlsDevice;
let bob1: MlsDevice;
let carol1: MlsDevice;
let conversation: string;

beforeAll(async () => {
  server = await startMessagingServer();
  const org = await seedOrganisation(server, 'St Elsewhere');
  alice = await addPerson(server, org, 'alice');
  bob = await addPerson(server, org, 'bob');
  carol = await addPerson(server, org, 'carol');
  alice1 = await MlsDevice.create(server, alice, directory, { keyPackages: 4 });
  bob1 = await MlsDevice.create(server, bob, directory, { keyPackages: 4 });
  carol1 = await MlsDevice.create(server, carol, directory, { keyPackages: 4 });
  conversation = await alice1.createConversation('direct', [bob.id]);
  await bob1.joinWelcomes();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('a new device of a colleague', () => {
  let alice2: MlsDevice;

  it('is announced, once it can be added, to the devices that share a conversation with its person', async () => {
    const bobSocket = await bob1.socket();
    const carolSocket = await carol1.socket();
    const aliceSocket = await alice1.socket();
    try {
      for (const s of [bobSocket, carolSocket, aliceSocket]) await s.next('ready');
      alice2 = await MlsDevice.create(server, alice, directory, { name: 'Alice phone', keyPackages: 3 });
      await bobSocket.next('peers');
      await aliceSocket.next('peers');
      // Carol shares nothing with Alice: nothing is said to her.
      // A ping answered after the announcement: anything sent to Carol would have come before it.
      await carolSocket.ping();
      expect(carolSocket.all('peers')).toEqual([]);
    } finally {
      for (const s of [bobSocket, carolSocket, aliceSocket]) s.close();
    }
  });

  it('is added by claiming only its own key package, so the others’ stay unspent', async () => {
    const only = await bob1.client.post<ClaimedKeyPackages>('/api/v1/key-packages/claim', { accountIds: [alice.id], deviceIds: [alice2.deviceId] });
    expect(only.status).toBe(200);
    expect(only.body.keyPackages.map((k) => k.deviceId)).toEqual([alice2.deviceId]);
    expectError(await bob1.client.post('/api/v1/key-packages/claim', { accountIds: [alice.id], deviceIds: [] }), 'VALIDATION_FAILED');
    // What the web client then does: one commit adding the new leaf; the new device reads on.
    await bob1.addDevicesOf(conversation, [alice.id]);
    expect(await alice2.joinWelcomes()).toEqual([conversation]);
    await bob1.send(conversation, 'hello both of your devices');
    await alice2.receive(conversation);
    expect(alice2.texts(conversation)).toEqual(['hello both of your devices']);
  });

  it('is announced again when it is revoked, so its leaf is removed', async () => {
    const bobSocket = await bob1.socket();
    try {
      await bobSocket.next('ready');
      expect((await alice1.client.delete(`/api/v1/devices/${alice2.deviceId}`)).status).toBe(200);
      await bobSocket.next('peers');
    } finally {
      bobSocket.close();
    }
    const described = (await bob1.client.get(`/api/v1/conversations/${conversation}`)).body;
    expect(described.members.find((m: { accountId: string }) => m.accountId === alice.id).devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([alice1.deviceId]);
    const removal = await bob1.removeDevices(conversation, [alice2.ref]);
    expect(removal.reply.status).toBe(200);
  });
});
