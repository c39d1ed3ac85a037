import { describe, expect, it } from 'vitest';
import { TestClient } from '../test-support/harness.js';
import {
  addPerson,
  DeviceDirectory,
  MlsDevice,
  seedOrganisation,
  startMessagingServer,
  trackConnections,
} from '../test-support/mls-client.js';

// "A message is acknowledged to its sender only after the transaction that stores it commits":
// whatever got a 200 is there after the server dies without a graceful shutdown and a new one
// starts on the same storage (the SQLite file, or the PostgreSQL database).

/** The same browser session, pointed at the restarted server. */
function reconnect(client: TestClient, url: string): TestClient {
  const moved = new TestClient(url);
  moved.cookies = new Map(client.cookies);
  return moved;
}

describe('crash durability', () => {
  it('messages acknowledged with 200 survive an abrupt stop; the restarted server delivers them in order', async () => {
    const server = await startMessagingServer();
    const connections = trackConnections(server);
    let restarted: Awaited<ReturnType<typeof startMessagingServer>> | undefined;
    try {
      const directory = new DeviceDirectory();
      const org = await seedOrganisation(server, 'Mercy West');
      const amy = await addPerson(server, org, 'amy');
      const bo = await addPerson(server, org, 'bo');
      const amy1 = await MlsDevice.create(server, amy, directory);
      const bo1 = await MlsDevice.create(server, bo, directory);
      const conversation = await amy1.createConversation('direct', [bo.id]);
      await bo1.joinWelcomes();

      const firstSeq = await amy1.send(conversation, 'acknowledged before the crash');
      // A burst in flight when the server dies: some get their 200, some may not.
      const burst = [];
      for (let i = 0; i < 10; i++) burst.push(await amy1.encrypt(conversation, `in flight ${i}`));
      const replies = burst.map((m) => amy1.submit(conversation, m).then((r) => r, () => null));
      const firstBack = await Promise.race(replies);
      expect(firstBack?.status).toBe(200);

      // The crash: every connection cut, nothing closed or flushed gracefully (the database handle
      // of this process is simply abandoned).
      server.app.server.closeAllConnections();
      connections.destroyAll();
      const settled = await Promise.all(replies);
      const acknowledged = settled.flatMap((r, i) => (r?.status === 200 ? [{ seq: r.body.seq as number, text: `in flight ${i}` }] : []));
      expect(acknowledged.length).toBeGreaterThan(0);

      restarted = await startMessagingServer({ storageOf: server });
      bo1.client = reconnect(bo1.client, restarted.url);
      amy1.client = reconnect(amy1.client, restarted.url);

      const got = await bo1.receive(conversation);
      const texts = got.map((m) => m.text);
      expect(got[0]).toMatchObject({ seq: firstSeq, text: 'acknowledged before the crash' });
      for (const a of acknowledged) expect(got.find((m) => m.seq === a.seq)?.text).toBe(a.text);
      // In order, and nothing that was not sent.
      expect(got.map((m) => m.seq)).toEqual([...got.map((m) => m.seq)].sort((a, b) => a - b));
      for (const t of texts.slice(1)) expect(t).toMatch(/^in flight \d$/);

      // The restarted server carries on from where the store is. (The dead server's handlers for
      // the cut requests may still finish their transactions meanwhile, as a second node would:
      // those messages are stored without their sender having heard so, which is allowed.)
      const next = await bo1.send(conversation, 'back up');
      expect(next).toBeGreaterThan(got.at(-1)!.seq);
      expect((await amy1.receive(conversation)).map((m) => m.text)).toContain('back up');
    } finally {
      await restarted?.stop();
      connections.destroyAll();
      await server.stop();
    }
  });
});
