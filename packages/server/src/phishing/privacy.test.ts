import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { auditEntries } from '../test-support/audit.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink } from './testing/smtp-sink.js';
import { sendDue } from './sender.js';
import { sweepRetention } from './runner.js';

// Privacy mode (the default): pseudonymous results, small groups hidden, per-person events
// deleted after the retention period. Turning it off is an audited admin action.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let adminSecret: string;
let campaignId: string;

const admin = async () => (await signIn(server, org.admin.email, adminSecret)).client;

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600 } });
  org = await seedOrg(server, 'Privacy Clinic');
  const signed = await signIn(server, org.admin.email);
  adminSecret = signed.totpSecret;
  const now = server.clock.now().getTime();
  const c = await signed.client.post('/api/v1/phishing/campaigns', {
    name: 'Voicemail',
    templateId: 'teams-voicemail',
    target: { everyone: true },
    window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'voicemail-service.test',
  });
  campaignId = c.body.id;
  await signed.client.post(`/api/v1/phishing/campaigns/${campaignId}/launch`);
  server.clock.advance(3600);
  const mailer = createMailSender(server.deps.config);
  await sendDue(server.deps, mailer);
  mailer.close();
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe('privacy mode', () => {
  it('is on by default: pseudonyms, stable per person', async () => {
    const c = await admin();
    expect((await c.get('/api/v1/phishing/settings')).body).toEqual({ privacyMode: true, minGroupSize: 5, retentionDays: 90, repeatClickerThreshold: 2 });
    const r = (await c.get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body;
    expect(r.recipients.map((x: { label: string }) => x.label).every((l: string) => /^Person [0-9a-f]{8}$/.test(l))).toBe(true);
    const again = (await c.get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body;
    expect(again.recipients.map((x: { label: string }) => x.label)).toEqual(r.recipients.map((x: { label: string }) => x.label));
  });

  it('shows names only when turned off, and audits the change', async () => {
    const c = await admin();
    const off = await c.put('/api/v1/phishing/settings', { privacyMode: false, minGroupSize: 5, retentionDays: 30, repeatClickerThreshold: 3 });
    expect(off.body.privacyMode).toBe(false);
    const r = (await c.get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body;
    expect(r.recipients.map((x: { label: string }) => x.label).sort()).toEqual([`admin of Privacy Clinic <${org.admin.email}>`, `clinician of Privacy Clinic <${org.clinician.email}>`]);
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.settings_changed', detail: { privacyMode: false, retentionDays: 30 } });
    expect((await c.put('/api/v1/phishing/settings', { privacyMode: true, minGroupSize: 1, retentionDays: 30, repeatClickerThreshold: 3 })).body.error.code).toBe('VALIDATION_FAILED');
    await c.put('/api/v1/phishing/settings', { privacyMode: true, minGroupSize: 5, retentionDays: 30, repeatClickerThreshold: 3 });
  });

  it('deletes per-person events after the retention period, keeping the campaign', async () => {
    expect(await sweepRetention(server.deps)).toBe(0);
    server.clock.advance(31 * 86_400);
    expect(await sweepRetention(server.deps)).toBe(2);
    const c = await admin();
    const r = (await c.get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body;
    expect(r.recipients.every((x: { events: unknown[] }) => x.events.length === 0)).toBe(true);
    expect((await c.get(`/api/v1/phishing/campaigns/${campaignId}`)).body.recipientCount).toBe(2);
  });
});
