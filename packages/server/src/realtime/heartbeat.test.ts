import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TestServer } from '../test-support/harness.js';
import {
  addPerson,
  DeviceDirectory,
  MlsDevice,
  seedOrganisation,
  startMessagingServer,
  trackConnections,
  type Organisation,
} from '../test-support/mls-client.js';
import { heartbeatOf } from './routes.js';

// One heartbeat per node (not a timer and a session query per socket): each tick pings every
// socket, cuts those that did not answer the last ping, and closes the sockets whose session has
// ended. The test runs the tick itself instead of waiting 30 s for the timer.

let server: TestServer;
let connections: ReturnType<typeof trackConnections>;
let org: Organisation;
const directory = new DeviceDirectory();

beforeAll(async () => {
  server = await startMessagingServer();
  connections = trackConnections(server);
  org = await seedOrganisation(server, 'Heartbeat Infirmary');
});
afterAll(async () => {
  connections?.destroyAll();
  await server?.stop();
});

describe('the heartbeat of a node', () => {
  it('closes the sockets of ended sessions (4401) at the next tick and leaves the others open', async () => {
    const heartbeat = heartbeatOf(server.app)!;
    expect(heartbeat).toBeDefined();
    const fay = await addPerson(server, org, 'fay');
    const desk = await MlsDevice.create(server, fay, directory);
    const laptop = await MlsDevice.create(server, fay, directory);
    const deskSocket = await desk.socket();
    const laptopSocket = await laptop.socket();
    await deskSocket.next('ready');
    await laptopSocket.next('ready');

    await heartbeat.tick();
    expect(deskSocket.closed).toBeNull();
    expect(laptopSocket.closed).toBeNull();

    expect((await desk.client.post('/api/v1/auth/sign-out')).status).toBe(200);
    await heartbeat.tick();
    expect(await deskSocket.whenClosed).toMatchObject({ code: 4401, reason: 'session ended' });
    // The other session's socket still answers.
    await laptopSocket.ping();
    expect(laptopSocket.closed).toBeNull();
    await laptopSocket.close();
  });

  it('cuts a socket that does not answer pings after two ticks; sockets that answer stay', async () => {
    const heartbeat = heartbeatOf(server.app)!;
    const gus = await addPerson(server, org, 'gus');
    const device = await MlsDevice.create(server, gus, directory);
    const answering = await device.socket();
    await answering.next('ready');
    const cookie = [...device.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    // A client that never answers pings (a dead phone behind a NAT that still holds the TCP session).
    const silent = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/ws`, { headers: { cookie }, autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      silent.once('message', () => resolve());
      silent.once('error', reject);
    });
    const watched = heartbeat.size;

    await heartbeat.tick(); // pings; the silent one does not answer
    await answering.ping(); // by now the answering client has sent its pong too
    await heartbeat.tick(); // cuts the silent one
    expect(await silentClosed).toBe(1006);
    expect(heartbeat.size).toBe(watched - 1);
    await answering.ping();
    expect(answering.closed).toBeNull();
    await answering.close();
  });
});
