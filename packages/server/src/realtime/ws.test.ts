import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_FRAMES_PER_SECOND, MAX_CLIENT_FRAME_BYTES } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { MAX_BUFFERED_BYTES } from './socket.js';
import {
  addPerson,
  DeviceDirectory,
  eventually,
  FrameSocket,
  MlsDevice,
  seedOrganisation,
  signInPerson,
  startMessagingRig,
  UpgradeRefused,
  type MessagingRig,
  type Organisation,
  type Person,
} from '../test-support/mls-client.js';

// The realtime socket: one per device at /api/v1/ws, authenticated by the session cookie of the
// upgrade request; validated frames both ways, a frame budget, and delivery of new messages.

let rig: MessagingRig;
let server: TestServer;
let org: Organisation;
const directory = new DeviceDirectory();
let ann: Person;
let ben: Person;
let ann1: MlsDevice;
let ann2: MlsDevice;
let ben1: MlsDevice;
let ward: string;
async function ackedSeq(device: MlsDevice, conversationId: string): Promise<number> {
  return (await device.client.get(`/api/v1/conversations/${conversationId}`)).body.ackedSeq;
}

beforeAll(async () => {
  rig = await startMessagingRig();
  server = rig.server;
  org = await seedOrganisation(server, 'Royal Infirmary');
  ann = await addPerson(server, org, 'ann');
  ben = await addPerson(server, org, 'ben');
  ann1 = await MlsDevice.create(server, ann, directory);
  ann2 = await MlsDevice.create(server, ann, directory);
  ben1 = await MlsDevice.create(server, ben, directory);
  ward = await ann1.createConversation('group', [ben.id]);
  for (const d of [ann2, ben1]) await d.joinWelcomes();
});
afterAll(() => rig?.stop());

describe('opening the socket', () => {
  it('refuses an upgrade without a session (401), for a session with no device (409 DEVICE_REQUIRED), and from a foreign Origin (403)', async () => {
    const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as UpgradeRefused);

    const none = await refusal(FrameSocket.open(server.url, null));
    expect(none).toBeInstanceOf(UpgradeRefused);
    expect(none!.status).toBe(401);
    expect(none!.body.error.code).toBe('UNAUTHENTICATED');

    const forged = await refusal(FrameSocket.open(server.url, null, { cookie: 'consilium_session=not-a-token' }));
    expect(forged!.status).toBe(401);

    const bare = await signInPerson(server, ben);
    const deviceless = await refusal(FrameSocket.open(server.url, bare));
    expect(deviceless!.status).toBe(409);
    expect(deviceless!.body.error.code).toBe('DEVICE_REQUIRED');

    const foreign = await refusal(FrameSocket.open(server.url, ben1.client, { origin: 'https://evil.example' }));
    expect(foreign!.status).toBe(403);
    expect(foreign!.body.error.code).toBe('ORIGIN_MISMATCH');

    // Signed out: the cookie no longer opens a socket.
    const gone = await MlsDevice.create(server, ben, directory);
    expect((await gone.client.post('/api/v1/auth/sign-out')).status).toBe(200);
    expect((await refusal(FrameSocket.open(server.url, gone.client)))!.status).toBe(401);

    // Control: the app's own origin, and no Origin at all (a native client), are let in.
    const own = await FrameSocket.open(server.url, ben1.client, { origin: 'http://localhost:8080' });
    rig.sockets.push(own);
    await own.next('ready');
    await own.close();
  });

  it('a refused upgrade does not leave its connection open on the server', async () => {
    const before = rig.connections.open();
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let reply = '';
    let closedByServer = false;
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('end', () => (closedByServer = true));
    socket.on('close', () => (closedByServer = true));
    socket.write(
      'GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await eventually(async () => reply.includes('\r\n\r\n{'), 'the upgrade was answered');
    expect(reply).toMatch(/^HTTP\/1\.1 401/);
    try {
      // The upgraded socket can carry no further HTTP request: the server must close it, or every
      // refused upgrade holds a connection (and a graceful shutdown waits for it forever).
      await eventually(async () => closedByServer, 'the server closed the refused connection', 5_000);
    } finally {
      socket.destroy();
    }
    await eventually(async () => rig.connections.open() <= before, 'the server let go of the connection', 5_000);
  });

  it("says 'ready' with the device id, and every frame it sends fits the protocol's ServerFrame schema", async () => {
    const socket = await rig.open(ben1);
    expect(socket.all('ready').map((f) => f.deviceId)).toEqual([ben1.deviceId]);
    await socket.ping('hello');
    expect(socket.invalidFrames).toEqual([]);
    await socket.close();
  });
});

describe('delivery over the socket', () => {
  it('a message submitted by another device arrives as a message frame with its body, and decrypts', async () => {
    const [benSocket, annSocket, ann2Socket] = [await rig.open(ben1), await rig.open(ann1), await rig.open(ann2)];
    const submitted = await ann1.encrypt(ward, 'pushed to you');
    const reply = await ann1.submit(ward, submitted);
    expect(reply.status).toBe(200);
    for (const socket of [benSocket, ann2Socket]) {
      const frame = await socket.next('message', (f) => f.message.seq === reply.body.seq);
      expect(frame.message).toMatchObject({
        conversationId: ward,
        seq: reply.body.seq,
        kind: 'application',
        epoch: submitted.epoch,
        senderDeviceId: ann1.deviceId,
        senderAccountId: ann.id,
        body: submitted.body,
      });
    }
    // Ben processes it from the frame, as a client would.
    const frame = benSocket.all('message').find((f) => f.message.seq === reply.body.seq)!;
    const processed = await ben1.process(ward, frame.message);
    expect(processed.text).toBe('pushed to you');
    await ann2.receive(ward);
    // The sender's own socket does not get its own message back.
    await annSocket.ping();
    expect(annSocket.all('message')).toEqual([]);
    for (const s of [benSocket, annSocket, ann2Socket]) expect(s.invalidFrames).toEqual([]);
    await Promise.all([benSocket.close(), annSocket.close(), ann2Socket.close()]);
  });

  it('a device added to a conversation gets a welcome frame', async () => {
    const cy = await addPerson(server, org, 'cy');
    const cy1 = await MlsDevice.create(server, cy, directory);
    const socket = await rig.open(cy1);
    const conversation = await ben1.createConversation('group', [cy.id]);
    const frame = await socket.next('welcome');
    expect(frame.conversationId).toBe(conversation);
    expect(await cy1.joinWelcomes()).toEqual([conversation]);
    expect(cy1.view(conversation).cursor).toBe(frame.seq);
    await ben1.send(conversation, 'hello Cy');
    const pushed = await socket.next('message');
    expect((await cy1.process(conversation, pushed.message)).text).toBe('hello Cy');
    await socket.close();
  });

  it('ack frames move the delivery cursor (never back, never past the last message)', async () => {
    await ann1.send(ward, 'to acknowledge 1');
    const last = await ann1.send(ward, 'to acknowledge 2');
    const socket = await rig.open(ben1);
    await ben1.receive(ward, { ack: false });
    const before = await ackedSeq(ben1, ward);
    expect(before).toBeLessThan(last);

    socket.send({ type: 'ack', conversationId: ward, seq: last - 1 });
    await eventually(async () => (await ackedSeq(ben1, ward)) === last - 1, 'the first ack is stored');
    socket.send({ type: 'ack', conversationId: ward, seq: last });
    await eventually(async () => (await ackedSeq(ben1, ward)) === last, 'the second ack is stored');
    socket.send({ type: 'ack', conversationId: ward, seq: 1 });
    await socket.ping();
    expect(await ackedSeq(ben1, ward)).toBe(last);

    socket.send({ type: 'ack', conversationId: ward, seq: last + 10 });
    expect((await socket.next('error')).code).toBe('VALIDATION_FAILED');
    socket.send({ type: 'ack', conversationId: crypto.randomUUID(), seq: 1 });
    expect((await socket.next('error')).code).toBe('NOT_FOUND');
    expect(await ackedSeq(ben1, ward)).toBe(last);
    await socket.ping();
    await socket.close();
  });

  it('an offline device catches up from its cursor after reconnecting, in order', async () => {
    const first = await rig.open(ben1);
    await ben1.receive(ward);
    const cursor = await ackedSeq(ben1, ward);
    await first.close();
    const texts = ['while offline 1', 'while offline 2', 'while offline 3'];
    for (const t of texts) await ann2.send(ward, t);
    // Reconnect: ready, then fetch from the acknowledged cursor.
    const again = await rig.open(ben1);
    expect(again.all('message')).toEqual([]);
    const got = await ben1.receive(ward);
    expect(got.map((m) => m.text)).toEqual(texts);
    expect(got[0]!.seq).toBe(cursor + 1);
    // From now on, pushed.
    await ann2.send(ward, 'live again');
    const pushed = await again.next('message');
    expect((await ben1.process(ward, pushed.message)).text).toBe('live again');
    await ann1.receive(ward);
    await again.close();
  });
});

describe('frames the server refuses', () => {
  it('malformed JSON, unknown types, bad fields, binary and oversized frames get error frames; the socket stays usable', async () => {
    const socket = await rig.open(ben1);
    const cases: [unknown, string][] = [
      ['{"type": "ping"', 'MALFORMED_JSON'],
      ['not json at all', 'MALFORMED_JSON'],
      [{ type: 'subscribe', conversationId: ward }, 'VALIDATION_FAILED'],
      [{ type: 'ack', conversationId: ward }, 'VALIDATION_FAILED'],
      [{ type: 'ack', conversationId: ward, seq: -1 }, 'VALIDATION_FAILED'],
      [{ type: 'ping', id: 'x', extra: true }, 'VALIDATION_FAILED'],
      [Buffer.from([1, 2, 3]), 'VALIDATION_FAILED'],
      [JSON.stringify({ type: 'ping', id: 'a'.repeat(MAX_CLIENT_FRAME_BYTES) }), 'VALIDATION_FAILED'],
    ];
    for (const [i, [frame, code]] of cases.entries()) {
      socket.send(frame);
      const error = await socket.next('error');
      expect(error.code, JSON.stringify(frame).slice(0, 80)).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
      await socket.ping();
      // Let the frame budget refill now and then so this test does not hit it.
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1100));
    }
    expect(socket.closed).toBeNull();
    expect(socket.invalidFrames).toEqual([]);
    await socket.close();
  });

  it('more frames than the per-second budget get RATE_LIMITED error frames, and the socket recovers', async () => {
    const socket = await rig.open(ben1);
    const burst = CLIENT_FRAMES_PER_SECOND * 2;
    for (let i = 0; i < burst; i++) socket.send({ type: 'ping', id: `burst-${i}` });
    const limited = await socket.next('error', (f) => f.code === 'RATE_LIMITED');
    expect(limited.message).toMatch(/frames per second/);
    await eventually(async () => socket.all('pong').length + socket.all('error').length >= burst, 'every burst frame was answered');
    expect(socket.all('pong').length).toBeLessThan(burst);
    expect(socket.closed).toBeNull();
    // After the window, the socket answers again.
    await new Promise((r) => setTimeout(r, 1100));
    await socket.ping('after');
    await socket.close();
  });
});

describe('backpressure', () => {
  /** The server side of the sockets, to see how much it has queued for a reader. */
  const serverSideBuffered = () => Math.max(0, ...[...server.app.websocketServer.clients].map((c) => c.bufferedAmount));

  /** Stops reading the socket and sends big messages to it until the server holds more than it queues. */
  async function flood(reader: FrameSocket, sender: MlsDevice, conversationId: string, options: { resume: boolean }): Promise<string[]> {
    const raw = (reader.ws as unknown as { _socket: net.Socket })._socket;
    raw.pause();
    const texts: string[] = [];
    while (serverSideBuffered() <= MAX_BUFFERED_BYTES || texts.length < 3) {
      if (texts.length >= 150) throw new Error(`server buffered only ${serverSideBuffered()} bytes after ${texts.length} big messages`);
      const text = `${texts.length}:${randomBytes(225 * 1024).toString('base64')}`;
      await sender.send(conversationId, text);
      texts.push(text);
    }
    // One more while it is over the limit: this one is dropped, and the socket marked lagging.
    const text = `${texts.length}: while lagging`;
    await sender.send(conversationId, text);
    texts.push(text);
    if (options.resume) raw.resume();
    return texts;
  }

  it('a reader that falls behind loses notifications, never messages: it is told to resync and fetches everything in order', async () => {
    const dee = await addPerson(server, org, 'dee');
    const dee1 = await MlsDevice.create(server, dee, directory);
    const room = await ben1.createConversation('group', [dee.id]);
    await dee1.joinWelcomes();
    const socket = await rig.open(dee1);
    const texts = await flood(socket, ben1, room, { resume: true });
    // Once the reader has drained below the limit, the next message is delivered again (after the
    // resync). Sent before that, it would be dropped too, and the test would depend on read speed.
    await eventually(async () => serverSideBuffered() <= MAX_BUFFERED_BYTES, 'the reader drains');
    const last = await ben1.send(room, 'after the flood');
    await socket.next('resync');
    await socket.next('message', (f) => f.message.seq === last);
    const pushed = socket.all('message').map((f) => f.message.seq);
    expect(pushed.length).toBeLessThan(texts.length + 1);
    // The last message comes after the resync frame.
    const resyncAt = socket.frames.findIndex((f) => f.type === 'resync');
    expect(socket.frames.slice(resyncAt + 1).some((f) => f.type === 'message' && f.message.seq === last)).toBe(true);
    // Nothing is lost: from its cursor the device reads every message, in order.
    const got = await dee1.receive(room);
    expect(got.map((m) => m.text)).toEqual([...texts, 'after the flood']);
    await socket.close();
  });

  it('a reader that falls behind is told to resync once it drains, even when nothing new comes after', async () => {
    const fay = await addPerson(server, org, 'fay');
    const fay1 = await MlsDevice.create(server, fay, directory);
    const room = await ben1.createConversation('group', [fay.id]);
    await fay1.joinWelcomes();
    const socket = await rig.open(fay1);
    const texts = await flood(socket, ben1, room, { resume: true });
    // The last message went out while the socket was over its limit, so it was not pushed: without
    // a resync the device would not know of it until something else happens in one of its conversations.
    await socket.next('resync');
    expect((await fay1.receive(room)).map((m) => m.text)).toEqual(texts);
    await socket.close();
  });

  it('a socket that has fallen behind is still closed at once when its device is revoked', async () => {
    const eve = await addPerson(server, org, 'eve');
    const eve1 = await MlsDevice.create(server, eve, directory);
    const room = await ben1.createConversation('group', [eve.id]);
    await eve1.joinWelcomes();
    const socket = await rig.open(eve1);
    const raw = (socket.ws as unknown as { _socket: net.Socket })._socket;
    await flood(socket, ben1, room, { resume: false });
    expect((await eve1.client.delete(`/api/v1/devices/${eve1.deviceId}`)).status).toBe(200);
    raw.resume();
    // The heartbeat would notice within a minute; revocation must not wait for it.
    await eventually(async () => socket.closed !== null, 'the revoked device is disconnected', 10_000);
    expect(socket.closed!.code).toBe(4401);
  });
});

describe('typing notices', () => {
  it('reach the other members\u2019 devices (not the typist\u2019s own), at most one per device per window; outsiders get typed errors', async () => {
    const typist = await rig.open(ann1);
    const reader = await rig.open(ben1);
    const sibling = await rig.open(ann2);
    typist.send({ type: 'typing', conversationId: ward });
    const heard = await reader.next('typing', (f) => f.conversationId === ward);
    expect(heard.accountId).toBe(ann.id);
    // Ann's other device hears it too (the client ignores its own account); the typist does not.
    await sibling.next('typing', (f) => f.conversationId === ward);
    await typist.ping();
    expect(typist.all('typing')).toEqual([]);
    // A second notice at once is not relayed again (a big group would multiply them). The frame
    // after it needs the same lookup, so once its error is back the second one was handled.
    typist.send({ type: 'typing', conversationId: ward });
    typist.send({ type: 'typing', conversationId: crypto.randomUUID() });
    expect((await typist.next('error')).code).toBe('NOT_FOUND');
    await reader.ping();
    expect(reader.all('typing').length).toBe(1);

    typist.send({ type: 'typing', conversationId: 'not-an-id' });
    expect((await typist.next('error')).code).toBe('VALIDATION_FAILED');
    typist.send({ type: 'typing', conversationId: ward, extra: 1 });
    expect((await typist.next('error')).code).toBe('VALIDATION_FAILED');
    expect(reader.invalidFrames).toEqual([]);
  });
});
