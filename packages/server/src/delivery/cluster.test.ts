import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import {
  addPerson,
  DeviceDirectory,
  FrameSocket,
  MlsDevice,
  seedOrganisation,
  trackConnections,
  type Organisation,
} from '../test-support/mls-client.js';
import { NatsFanOut } from './nats-fan-out.js';

// Two server nodes behind one load balancer: they share one database (the PostgreSQL database of
// CONSILIUM_TEST_PG, or one SQLite file) and one NATS. A device connected to node B hears live of
// a message sent through node A, and of its own revocation done on node A.

const natsUrl = process.env.CONSILIUM_TEST_NATS ?? 'nats://127.0.0.1:4222';

async function natsAnswers(): Promise<boolean> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 2000, maxReconnectAttempts: 0 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

const reachable = await natsAnswers();
if (!reachable) {
  console.warn(`\n*** NATS is not reachable at ${natsUrl}: the two-node fan-out tests are SKIPPED. Start it with: nats-server -a 127.0.0.1 -p 4222 -js ***\n`);
}

/** A node of the cluster: a real server with the NATS fan-out, its clock on the wall clock (MLS lifetimes). */
async function startNode(storageOf?: TestServer): Promise<TestServer> {
  const node = await startTestServer({ natsUrl }, storageOf ? { storageOf } : {});
  if (!storageOf) node.clock.advance((Date.now() - node.clock.now().getTime()) / 1000);
  return node;
}

describe.skipIf(!reachable)('two server nodes sharing one database and one NATS', () => {
  let nodeA: TestServer;
  let nodeB: TestServer;
  let cuts: Array<ReturnType<typeof trackConnections>>;
  let org: Organisation;
  const directory = new DeviceDirectory();

  beforeAll(async () => {
    nodeA = await startNode();
    nodeB = await startNode(nodeA);
    cuts = [trackConnections(nodeA), trackConnections(nodeB)];
    org = await seedOrganisation(nodeA, 'Two Node General');
  });
  afterAll(async () => {
    for (const c of cuts ?? []) c.destroyAll();
    await nodeB?.stop();
    await nodeA?.stop();
  });

  it('both nodes run the NATS fan-out', () => {
    expect(nodeA.deps.fanOut).toBeInstanceOf(NatsFanOut);
    expect(nodeB.deps.fanOut).toBeInstanceOf(NatsFanOut);
  });

  it('a message sent through node A reaches a device connected to node B live, and back', async () => {
    const amy = await addPerson(nodeA, org, 'amy');
    const bo = await addPerson(nodeA, org, 'bo');
    const amy1 = await MlsDevice.create(nodeA, amy, directory, { name: 'Amy on node A' });
    const bo1 = await MlsDevice.create(nodeB, bo, directory, { name: 'Bo on node B' });
    const amySocket = await amy1.socket();
    const boSocket = await bo1.socket();
    await amySocket.next('ready');
    await boSocket.next('ready');

    // The Welcome for Bo's device is committed on node A; node B tells Bo's socket.
    const conversation = await amy1.createConversation('direct', [bo.id]);
    expect((await boSocket.next('welcome', (f) => f.conversationId === conversation)).seq).toBeGreaterThan(0);
    expect(await bo1.joinWelcomes()).toEqual([conversation]);

    // A -> B: node B has only the notice (never the body), so it pushes "new up to seq N".
    const seq = await amy1.send(conversation, 'sent through node A');
    const notice = await boSocket.next('new', (f) => f.conversationId === conversation);
    expect(notice.seq).toBe(seq);
    expect(boSocket.all('message')).toEqual([]);
    expect((await bo1.receive(conversation)).map((m) => m.text)).toEqual(['sent through node A']);

    // B -> A, the same way round.
    const reply = await bo1.send(conversation, 'answered through node B');
    expect((await amySocket.next('new', (f) => f.conversationId === conversation && f.seq === reply)).seq).toBe(reply);
    expect((await amy1.receive(conversation)).map((m) => m.text)).toContain('answered through node B');

    await amySocket.close();
    await boSocket.close();
  });

  it('a device on the node that stored the message still gets the whole message frame', async () => {
    const cy = await addPerson(nodeA, org, 'cy');
    const di = await addPerson(nodeA, org, 'di');
    const cy1 = await MlsDevice.create(nodeA, cy, directory);
    const di1 = await MlsDevice.create(nodeA, di, directory);
    const conversation = await cy1.createConversation('direct', [di.id]);
    await di1.joinWelcomes();
    const diSocket = await di1.socket();
    await diSocket.next('ready');
    const seq = await cy1.send(conversation, 'same node');
    const pushed = await diSocket.next('message', (f) => f.message.conversationId === conversation);
    expect(pushed.message.seq).toBe(seq);
    expect((await di1.process(conversation, pushed.message)).text).toBe('same node');
    // Exactly once: this node does not hear its own notice back from NATS.
    await diSocket.ping();
    expect(diSocket.all('new').filter((f) => f.conversationId === conversation)).toEqual([]);
    await diSocket.close();
  });

  it('case and peer-change notices published on node A reach a socket on node B', async () => {
    const flo = await addPerson(nodeA, org, 'flo');
    const phone = await MlsDevice.create(nodeB, flo, directory);
    const socket = await phone.socket();
    await socket.next('ready');
    const caseId = crypto.randomUUID();
    nodeA.deps.fanOut.publish([phone.deviceId], { type: 'case', caseId });
    nodeA.deps.fanOut.publish([phone.deviceId], { type: 'peers' });
    expect((await socket.next('case')).caseId).toBe(caseId);
    await socket.next('peers');
    await socket.close();
  });

  it('receipts changed on node B (an ack, a read marker) and typing notices reach a socket on node A', async () => {
    const gus = await addPerson(nodeA, org, 'gus');
    const hal = await addPerson(nodeA, org, 'hal');
    const gus1 = await MlsDevice.create(nodeA, gus, directory, { name: 'Gus on node A' });
    const hal1 = await MlsDevice.create(nodeB, hal, directory, { name: 'Hal on node B' });
    const conversation = await gus1.createConversation('direct', [hal.id]);
    await hal1.joinWelcomes();
    const gusSocket = await gus1.socket();
    await gusSocket.next('ready');
    const seq = await gus1.send(conversation, 'through A, read on B');
    await hal1.receive(conversation);
    await gusSocket.next('receipts', (f) => f.conversationId === conversation && f.receipts.some((r) => r.accountId === hal.id && r.deliveredSeq >= seq));
    expect((await hal1.client.post(`/api/v1/conversations/${conversation}/read`, { seq })).status).toBe(200);
    const read = await gusSocket.next('receipts', (f) => f.conversationId === conversation && f.receipts.some((r) => r.accountId === hal.id && r.readSeq === seq));
    expect(read.receipts.map((r) => r.accountId).sort()).toEqual([gus.id, hal.id].sort());
    // A typing notice from Hal's socket on node B crosses to Gus on node A.
    const halSocket = await hal1.socket();
    await halSocket.next('ready');
    halSocket.send({ type: 'typing', conversationId: conversation });
    expect((await gusSocket.next('typing', (f) => f.conversationId === conversation)).accountId).toBe(hal.id);
    expect(gusSocket.invalidFrames).toEqual([]);
    await halSocket.close();
    await gusSocket.close();
  });

  it('revoking a device on node A closes its socket on node B', async () => {
    const ed = await addPerson(nodeA, org, 'ed');
    const desk = await MlsDevice.create(nodeA, ed, directory, { name: 'Ed desktop (node A)' });
    const phone = await MlsDevice.create(nodeB, ed, directory, { name: 'Ed phone (node B)' });
    const phoneSocket: FrameSocket = await phone.socket();
    await phoneSocket.next('ready');
    expect((await desk.client.delete(`/api/v1/devices/${phone.deviceId}`)).status).toBe(200);
    expect((await phoneSocket.next('error')).code).toBe('DEVICE_REVOKED');
    expect((await phoneSocket.whenClosed).code).toBe(4401);
  });
});
