import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { SmtpSink } from './testing/smtp-sink.js';

// The background runner the server starts: due mail goes out without anyone calling sendDue.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 1 } });
  org = await seedOrg(server, 'Runner Hospital');
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe('phishing runner', () => {
  it('sends due mail on its own once the (injected) clock reaches the send time', async () => {
    const { client } = await signIn(server, org.admin.email);
    const now = server.clock.now().getTime();
    const c = await client.post('/api/v1/phishing/campaigns', {
      name: 'Runner',
      templateId: 'cme-certificate',
      target: { everyone: true },
      window: { start: new Date(now + 3600_000).toISOString(), end: new Date(now + 7200_000).toISOString() },
      businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
      senderDomain: 'cme-office.test',
    });
    await client.post(`/api/v1/phishing/campaigns/${c.body.id}/launch`);
    expect(sink.count).toBe(0);
    server.clock.advance(7200);
    await sink.waitFor(2);
    expect(sink.mails.map((m) => m.envelopeTo[0]).sort()).toEqual([org.admin.email, org.clinician.email].sort());
  });
});
