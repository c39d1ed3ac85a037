import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { captureStdout, type LogCapture } from '../test-support/log-capture.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation } from '../test-support/mls-client.js';

// The message hot path (send, fetch, acknowledge) logs no per-request lines at info; its
// refusals are still logged at warn, and every other route keeps its info lines.

let capture: LogCapture;
let server: TestServer;

beforeAll(async () => {
  capture = captureStdout();
  try {
    server = await startTestServer({ logLevel: 'info' });
    server.clock.advance((Date.now() - server.clock.now().getTime()) / 1000);
  } catch (err) {
    capture.restore();
    throw err;
  }
});
afterAll(async () => {
  try {
    await server?.stop();
  } finally {
    capture.restore();
  }
});

const pathOf = (r: Record<string, unknown>) => ((r.req as { url?: string } | undefined)?.url ?? '').split('?')[0]!;
const statusOf = (r: Record<string, unknown>) => (r.res as { statusCode?: number } | undefined)?.statusCode;

describe('request logs on the message hot path', () => {
  it('no info lines for sent, fetched and acknowledged messages; refusals at warn; other routes unchanged', async () => {
    const directory = new DeviceDirectory();
    const org = await seedOrganisation(server, 'Quiet Logs Clinic');
    const ida = await addPerson(server, org, 'ida');
    const jon = await addPerson(server, org, 'jon');
    const ida1 = await MlsDevice.create(server, ida, directory);
    const jon1 = await MlsDevice.create(server, jon, directory);
    const conversation = await ida1.createConversation('direct', [jon.id]);
    await jon1.joinWelcomes();
    const mark = capture.records().length;

    const seq = await ida1.send(conversation, 'hello');
    expect((await jon1.receive(conversation)).map((m) => m.text)).toEqual(['hello']);
    const refused = await jon1.ack(conversation, seq + 10);
    expect(refused.status).toBe(400);
    expect((await jon1.client.get('/api/v1/conversations')).status).toBe(200);

    const records = capture.records().slice(mark);
    const messages = `/api/v1/conversations/${conversation}/messages`;
    const ack = `/api/v1/conversations/${conversation}/ack`;
    const isHot = (r: Record<string, unknown>) => pathOf(r) === messages || pathOf(r) === ack;
    // Info is pino level 30, warn 40. No "incoming request" line for the hot path...
    expect(records.filter((r) => isHot(r) && Number(r.level) < 40)).toEqual([]);
    // ...and no "request completed" line either: each of those belongs to a logged incoming request.
    const incoming = new Set(records.filter((r) => r.msg === 'incoming request').map((r) => r.reqId));
    expect(records.filter((r) => r.msg === 'request completed' && !incoming.has(r.reqId))).toEqual([]);
    expect(records.filter((r) => r.msg === 'request refused').map((r) => [pathOf(r), statusOf(r), r.level])).toEqual([[ack, 400, 40]]);
    // Everything else still logs each request at info.
    const listed = records.find((r) => pathOf(r) === '/api/v1/conversations' && r.msg === 'incoming request');
    expect(listed?.level).toBe(30);
    expect(records.some((r) => r.msg === 'request completed' && r.reqId === listed!.reqId && statusOf(r) === 200)).toBe(true);
  });
});
