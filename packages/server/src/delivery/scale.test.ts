import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processMessage } from '@consilium/crypto';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import {
  addPerson,
  DeviceDirectory,
  fromB64,
  MlsDevice,
  seedOrganisation,
  startMessagingServer,
  trackConnections,
  type Person,
} from '../test-support/mls-client.js';

// Fifty simulated devices (ten people with five devices each) in one group, through the real
// server: one commit adds everyone, everyone talks, two people (ten devices) are removed with one
// commit, and the removed devices can read nothing after it.

const PEOPLE = 10;
const DEVICES_EACH = 5;

let server: TestServer;
let connections: ReturnType<typeof trackConnections>;
const directory = new DeviceDirectory();
const people: Person[] = [];
const devicesOf = new Map<Person, MlsDevice[]>();
const all = () => [...devicesOf.values()].flat();

beforeAll(async () => {
  server = await startMessagingServer();
  connections = trackConnections(server);
  const org = await seedOrganisation(server, 'Grey Sloan Memorial');
  for (let p = 0; p < PEOPLE; p++) people.push(await addPerson(server, org, `person${p}`));
  for (const person of people) {
    const devices: MlsDevice[] = [];
    for (let d = 0; d < DEVICES_EACH; d++) devices.push(await MlsDevice.create(server, person, directory, { keyPackages: 1 }));
    devicesOf.set(person, devices);
  }
}, 180_000);
afterAll(async () => {
  connections?.destroyAll();
  await server?.stop();
});

describe('fifty devices in one group', () => {
  it('one commit adds 49 devices; every device decrypts every message; ten removed devices read nothing after their removal', async () => {
    const creator = devicesOf.get(people[0]!)![0]!;
    const conversation = await creator.createConversation('group', people.slice(1).map((p) => p.id));
    for (const d of all()) if (d !== creator) expect(await d.joinWelcomes()).toEqual([conversation]);
    for (const d of all()) expect(d.members(conversation)).toHaveLength(PEOPLE * DEVICES_EACH);
    const described = (await creator.client.get(`/api/v1/conversations/${conversation}`)).body;
    expect(described.epoch).toBe(1);
    expect(described.members.flatMap((m: { devices: unknown[] }) => m.devices)).toHaveLength(50);

    // Round one: every device says something; every device reads everyone else's, in order.
    const sent: { from: MlsDevice; text: string; seq: number }[] = [];
    for (const d of all()) {
      const text = `hello from ${d.person.displayName} on ${d.deviceId.slice(0, 8)}`;
      sent.push({ from: d, text, seq: await d.send(conversation, text) });
    }
    for (const d of all()) {
      await d.receive(conversation);
      expect(d.texts(conversation)).toEqual(sent.filter((s) => s.from !== d).map((s) => s.text));
    }

    // Two people leave the conversation (an admin removes them), and one commit removes their ten leaves.
    const leaving = people.slice(PEOPLE - 2);
    const removedDevices = leaving.flatMap((p) => devicesOf.get(p)!);
    const staying = all().filter((d) => !removedDevices.includes(d));
    for (const p of leaving) expect((await creator.client.delete(`/api/v1/conversations/${conversation}/members/${p.id}`)).status).toBe(200);
    const removedStates = new Map(removedDevices.map((d) => [d, d.state(conversation)]));
    const removal = await creator.removeDevices(conversation, removedDevices.map((d) => d.ref));
    expect(removal.reply.status).toBe(200);
    for (const d of staying) {
      await d.receive(conversation);
      expect(d.members(conversation)).toHaveLength(40);
      expect(Number(d.state(conversation).epoch)).toBe(2);
    }

    // Round two: ten of the remaining devices speak; the other remaining devices read it all.
    const round2: { from: MlsDevice; text: string; seq: number }[] = [];
    for (const d of staying.filter((_, i) => i % 4 === 0)) {
      const text = `after the removal, from ${d.deviceId.slice(0, 8)}`;
      round2.push({ from: d, text, seq: await d.send(conversation, text) });
    }
    expect(round2).toHaveLength(10);
    for (const d of staying) {
      const got = await d.receive(conversation);
      expect(got.filter((m) => m.senderDeviceId !== d.deviceId).map((m) => m.text)).toEqual(round2.filter((s) => s.from !== d).map((s) => s.text));
    }

    // The removed devices: the server gives them nothing, and their keys open nothing sent after.
    const later = await server.deps.db.selectFrom('mls_message').selectAll().where('conversation_id', '=', conversation).where('seq', '>', removal.seq!).orderBy('seq').execute();
    expect(later.map((r) => r.seq)).toEqual(round2.map((s) => s.seq));
    const commit = await server.deps.db.selectFrom('mls_message').selectAll().where('conversation_id', '=', conversation).where('seq', '=', removal.seq!).executeTakeFirstOrThrow();
    for (const d of removedDevices) {
      expectError(await d.fetch(conversation, 0), 'NOT_FOUND');
      const state = removedStates.get(d)!;
      for (const row of later) await expect(processMessage(state, fromB64(row.body))).rejects.toMatchObject({ name: 'MlsError' });
      const processed = await processMessage(state, fromB64(commit.body));
      expect(processed.kind === 'commit' && processed.removedSelf).toBe(true);
    }
  }, 240_000);
});
