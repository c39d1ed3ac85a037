import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../test-support/http.js';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink } from './testing/smtp-sink.js';
import { retryDelaySeconds, sendDue } from './sender.js';

// Sending state is in the database: a restart resumes where it stopped and sends nothing twice;
// SMTP failures are retried with backoff and visible per recipient; public routes are rate-limited.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let officerSecret: string;

const officer = async () => (await signIn(server, 'so@resume-clinic.test', officerSecret)).client;

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({
    smtp: { host: '127.0.0.1', port: sink.port },
    phishing: { schedulerIntervalSeconds: 3600, maxSendAttempts: 3, publicRateLimitPerMinute: 5 },
  });
  org = await seedOrg(server, 'Resume Clinic');
  await createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: 'so@resume-clinic.test', displayName: 'Sec Officer', role: 'security_officer', departmentId: null, password: 'correct horse battery staple' });
  for (let i = 0; i < 4; i++) {
    await createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: `n${i}@resume-clinic.test`, displayName: `Nurse ${i}`, role: 'nurse', departmentId: null, password: 'correct horse battery staple' });
  }
  officerSecret = (await signIn(server, 'so@resume-clinic.test')).totpSecret;
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

async function launch(name: string, roles: string[]): Promise<string> {
  const c = await officer();
  const now = server.clock.now().getTime();
  const created = await c.post('/api/v1/phishing/campaigns', {
    name,
    templateId: 'shared-scan',
    target: { roles },
    window: { start: new Date(now).toISOString(), end: new Date(now + 86_400_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'scan-ward4.test',
  });
  expect(created.status).toBe(200);
  expect((await c.post(`/api/v1/phishing/campaigns/${created.body.id}/launch`)).status).toBe(200);
  return created.body.id;
}

describe('durable sending', () => {
  it('resumes after a restart and sends each mail exactly once', async () => {
    const id = await launch('restart', ['nurse']);
    // Half the window passes; the first server sends what is due, then "crashes".
    server.clock.advance(12 * 3600);
    const m1 = createMailSender(server.deps.config);
    const first = await sendDue(server.deps, m1);
    m1.close();
    const sentBefore = sink.mails.length;
    expect(first.sent).toBe(sentBefore);
    // The first process is abandoned as it stands (as after kill -9; its scheduler timer is idle).

    // A new server on the same storage and clock picks up the rest.
    const again = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600, maxSendAttempts: 3 } }, { storageOf: server });
    try {
      again.clock.advance(13 * 3600);
      const m2 = createMailSender(again.deps.config);
      // Two senders racing (two nodes): claims keep each mail to one of them.
      const [a, b] = await Promise.all([sendDue(again.deps, m2), sendDue(again.deps, m2)]);
      m2.close();
      expect(a.sent + b.sent).toBe(4 - sentBefore);
      expect(sink.mails).toHaveLength(4);
      expect(new Set(sink.mails.map((m) => m.envelopeTo[0])).size).toBe(4);
      // No bounce address configured: the envelope sender is the visible From, and delivery is not claimed.
      for (const m of sink.mails) expect(m.envelopeFrom).toBe(m.parsed.from?.value[0]?.address);
      expect((await again.deps.db.selectFrom('phishing_event').select('kind').where('campaign_id', '=', id).where('kind', '=', 'bounced').execute()).length).toBe(0);
      const status = await again.deps.db.selectFrom('phishing_campaign').select('status').where('id', '=', id).executeTakeFirstOrThrow();
      expect(status.status).toBe('completed');
    } finally {
      await again.stop();
    }
  });

  it('retries a relay failure with backoff, shows the error per recipient, and gives up after the last attempt', async () => {
    const id = await launch('flaky relay', ['security_officer']);
    server.clock.advance(86_400);
    const mailer = createMailSender(server.deps.config);
    try {
      sink.rejectNext(1);
      expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 0, retrying: 1 });
      let recipients = (await (await officer()).get(`/api/v1/phishing/campaigns/${id}/recipients`)).body.recipients;
      expect(recipients[0]).toMatchObject({ status: 'retrying', attempts: 1 });
      expect(recipients[0].lastError).toContain('451');
      // Not before the backoff.
      expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 0, retrying: 0 });
      server.clock.advance(retryDelaySeconds(1));
      expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 1 });
      recipients = (await (await officer()).get(`/api/v1/phishing/campaigns/${id}/recipients`)).body.recipients;
      expect(recipients[0]).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
      expect(recipients[0].deliveredAt).toBeNull();

      const id2 = await launch('dead relay', ['admin']);
      server.clock.advance(86_400);
      sink.rejectNext(100);
      for (let i = 0; i < 3; i++) {
        await sendDue(server.deps, mailer);
        server.clock.advance(3600);
      }
      sink.rejectNext(0);
      recipients = (await (await officer()).get(`/api/v1/phishing/campaigns/${id2}/recipients`)).body.recipients;
      expect(recipients[0]).toMatchObject({ status: 'failed', attempts: 3 });
      expect(recipients[0].events.map((e: { kind: string }) => e.kind)).toEqual(['send_failed']);
      const results = (await (await officer()).get(`/api/v1/phishing/campaigns/${id2}/results`)).body;
      expect(results.counts).toMatchObject({ recipients: 1, sent: 0, failed: 1 });
    } finally {
      mailer.close();
    }
  });

  it('does not send a cancelled campaign', async () => {
    const id = await launch('cancelled', ['nurse']);
    const before = sink.mails.length;
    const c = await officer();
    expect((await c.post(`/api/v1/phishing/campaigns/${id}/cancel`)).body.status).toBe('cancelled');
    server.clock.advance(86_400);
    const mailer = createMailSender(server.deps.config);
    expect((await sendDue(server.deps, mailer)).sent).toBe(0);
    mailer.close();
    expect(sink.mails.length).toBe(before);
  });
});

describe('public routes', () => {
  it('are rate-limited per address and recover after a minute', async () => {
    const path = '/t/o/AAAAAAAAAAAAAAAAAAAAAA.gif';
    for (let i = 0; i < 5; i++) expect((await rawRequest(server.url, { method: 'GET', path })).status).toBe(200);
    const limited = await rawRequest(server.url, { method: 'GET', path: '/t/c/AAAAAAAAAAAAAAAAAAAAAA' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    server.clock.advance(61);
    expect((await rawRequest(server.url, { method: 'GET', path })).status).toBe(200);
  });
});
