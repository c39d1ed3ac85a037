import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRecipients, CampaignResults } from '@consilium/protocol';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink } from './testing/smtp-sink.js';
import { sendDue } from './sender.js';
import { ingestReportedMail } from './reports.js';

// Bounces: campaign mail goes out with a VERP envelope sender (bounces+<trackingId>@...), a
// delivery status notification reaching the report mailbox is parsed by the same function the
// IMAP poller calls, a permanent failure is a `bounced` event, a delay notice is not, and
// "delivered" is sent + no bounce after the window.

const fixture = (name: string, token: string, rcpt: string) =>
  readFileSync(new URL(`./testing/fixtures/${name}`, import.meta.url), 'utf8').replaceAll('__TOKEN__', token).replaceAll('__RCPT__', rcpt);

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let campaignId: string;
let officerSecret: string;
const officer = async () => (await signIn(server, org.admin.email, officerSecret)).client;

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({
    smtp: { host: '127.0.0.1', port: sink.port },
    phishing: { schedulerIntervalSeconds: 3600, bounceAddress: 'bounces@report.bounce-hospital.test', deliveredAfterMinutes: 30 },
  });
  org = await seedOrg(server, 'Bounce Hospital');
  for (let i = 0; i < 3; i++) {
    await createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: `n${i}@bounce-hospital.test`, displayName: `Nurse ${i}`, role: 'nurse', departmentId: null, password: 'correct horse battery staple' });
  }
  const first = await signIn(server, org.admin.email);
  officerSecret = first.totpSecret;
  const c = first.client;
  const now = server.clock.now().getTime();
  const created = await c.post('/api/v1/phishing/campaigns', {
    name: 'Bounce drill',
    templateId: 'shared-scan',
    target: { roles: ['nurse'] },
    window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'ward4-scan.test',
  });
  expect(created.status).toBe(200);
  campaignId = created.body.id;
  expect((await c.post(`/api/v1/phishing/campaigns/${campaignId}/launch`)).status).toBe(200);
  server.clock.advance(3600);
  const mailer = createMailSender(server.deps.config);
  expect((await sendDue(server.deps, mailer)).sent).toBe(3);
  mailer.close();
  await sink.waitFor(3);
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const recipients = () => server.deps.db.selectFrom('phishing_recipient').selectAll().where('campaign_id', '=', campaignId).orderBy('email').execute();
const results = async () => (await (await officer()).get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body as CampaignResults;

describe('bounces and delivery', () => {
  it('sends with a VERP envelope sender carrying the tracking id; the visible From stays the template', async () => {
    for (const r of await recipients()) {
      const mail = sink.mails.find((m) => m.envelopeTo.includes(r.email))!;
      expect(mail.envelopeFrom).toBe(`bounces+${r.token}@report.bounce-hospital.test`);
      expect(mail.parsed.from?.value[0]?.address).toMatch(/@ward4-scan\.test$/);
      expect(mail.parsed.from?.value[0]?.address).not.toContain('bounces');
    }
  });

  it('records a Postfix DSN (5.1.1) as a bounce and a 4.4.1 delay notice as nothing; delivered only after the window', async () => {
    const [n0, n1] = await recipients();
    expect(await ingestReportedMail(server.deps, fixture('postfix-delay.eml', n1!.token, n1!.email))).toBe('ignored');
    expect(await ingestReportedMail(server.deps, fixture('postfix-bounce.eml', n0!.token, n0!.email))).toBe('bounced');
    // The same notice read twice adds no second event.
    expect(await ingestReportedMail(server.deps, fixture('postfix-bounce.eml', n0!.token, n0!.email))).toBe('bounced');

    const events = await server.deps.db.selectFrom('phishing_event').selectAll().where('campaign_id', '=', campaignId).where('kind', '=', 'bounced').execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ recipient_id: n0!.id });
    expect(events[0]!.reason).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1 .*User unknown/);
    // Neither notice is a report.
    expect(await server.deps.db.selectFrom('phishing_report').selectAll().where('organisation_id', '=', org.id).execute()).toHaveLength(0);
    expect(await server.deps.db.selectFrom('phishing_event').selectAll().where('campaign_id', '=', campaignId).where('kind', '=', 'reported').execute()).toHaveLength(0);

    // Within the window nothing is delivered yet.
    expect((await results()).counts).toMatchObject({ sent: 3, bounced: 1, delivered: 0, reported: 0 });

    server.clock.advance(31 * 60);
    expect((await results()).counts).toMatchObject({ sent: 3, bounced: 1, delivered: 2 });
    const timeline = (await (await officer()).get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body as CampaignRecipients;
    const of = (id: string) => timeline.recipients.find((r) => r.id === id)!;
    expect(of(n0!.id).deliveredAt).toBeNull();
    expect(of(n0!.id).events.find((e) => e.kind === 'bounced')?.reason).toMatch(/^5\.1\.1/);
    expect(of(n1!.id).deliveredAt).toBe(new Date(Date.parse(n1!.sent_at!) + 30 * 60_000).toISOString());
    expect(of(n1!.id).events.map((e) => e.kind)).not.toContain('bounced');
  });
});
