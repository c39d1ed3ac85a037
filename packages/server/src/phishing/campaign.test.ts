import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rawRequest } from '../test-support/http.js';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { auditEntries } from '../test-support/audit.js';
import { createAccount } from '../accounts/service.js';
import { createDepartment } from '../orgs/service.js';
import { systemActor } from '../audit/record.js';
import { createMailSender, type MailSender } from '../mail/transport.js';
import { SmtpSink, type ReceivedMail } from './testing/smtp-sink.js';
import { sendDue } from './sender.js';
import { templateLibrary, unknownMergeFields } from './templates.js';

// A campaign end to end over real SMTP: templates, target group from the directory, schedule in
// business hours, sending with per-recipient tracking ids, tracking events with bot filtering.

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const SECRET_PASSWORD = 'Sup3r-Secret-Value-9431';

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let officer: TestClient;
let officerSecret: string;
/** Moves the clock and signs the officer in again (sessions end after idle minutes). */
async function advance(seconds: number) {
  server.clock.advance(seconds);
  officer = (await signIn(server, 'officer@phish-hospital.test', officerSecret)).client;
}
let mailer: MailSender;
let wardId: string;

async function addPerson(local: string, role: 'clinician' | 'nurse' | 'security_officer', departmentId: string | null) {
  return createAccount(server.deps, systemActor(org.id), {
    organisationId: org.id,
    email: `${local}@phish-hospital.test`,
    displayName: `${local[0]!.toUpperCase()}${local.slice(1)} Tester`,
    role,
    departmentId,
    password: 'correct horse battery staple',
  });
}

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({
    smtp: { host: '127.0.0.1', port: sink.port },
    phishing: { schedulerIntervalSeconds: 3600, botWindowSeconds: 60, maxSendAttempts: 3, publicRateLimitPerMinute: 10_000 },
  });
  org = await seedOrg(server, 'Phish Hospital');
  const ward = await createDepartment(server.deps, systemActor(org.id), 'Ward 4');
  wardId = ward.id;
  await addPerson('officer', 'security_officer', null);
  for (const n of ['anna', 'bram', 'chris', 'dana', 'eva', 'femke']) await addPerson(n, 'nurse', wardId);
  const signed = await signIn(server, 'officer@phish-hospital.test');
  officer = signed.client;
  officerSecret = signed.totpSecret;
  mailer = createMailSender(server.deps.config);
});
afterAll(async () => {
  mailer?.close();
  await server?.stop();
  await sink?.close();
});

const window = (days: number) => ({ start: server.clock.now().toISOString(), end: new Date(server.clock.now().getTime() + days * 86_400_000).toISOString() });
const hours = { startHour: 8, endHour: 17, timeZone: 'Europe/Amsterdam', weekdaysOnly: true };
const tokenOf = (m: ReceivedMail) => /\/t\/c\/([A-Za-z0-9_-]{22})/.exec(m.parsed.text ?? '')![1]!;

describe('template library', () => {
  it('has at least 12 healthcare templates, each with cues found in the mail and a difficulty from the Phish Scale', async () => {
    const list = await officer.get('/api/v1/phishing/templates');
    expect(list.status).toBe(200);
    expect(list.body.templates.length).toBeGreaterThanOrEqual(12);
    expect(new Set(list.body.templates.map((t: { difficulty: string }) => t.difficulty))).toEqual(new Set(['easy', 'medium', 'hard']));
    for (const t of templateLibrary) {
      expect(unknownMergeFields(t.subject, t.text, t.html)).toEqual([]);
      expect(t.cues.length).toBeGreaterThan(0);
      for (const c of t.cues) expect(`${t.fromName}\n${t.subject}\n${t.text}\n${t.linkText}`).toContain(c.excerpt);
      const one = await officer.get(`/api/v1/phishing/templates/${t.id}`);
      expect(one.body).toMatchObject({ id: t.id, difficulty: t.difficulty, cueCount: t.cues.length });
    }
  });

  it('is for admins and security officers only', async () => {
    const clinician = (await signIn(server, org.clinician.email)).client;
    expect((await clinician.get('/api/v1/phishing/templates')).body.error.code).toBe('FORBIDDEN');
    expect((await clinician.get('/api/v1/phishing/campaigns')).body.error.code).toBe('FORBIDDEN');
  });
});

describe('a campaign over SMTP', () => {
  let campaignId: string;
  let mails: ReceivedMail[];

  it('refuses bad windows, time zones and empty targets with clear errors', async () => {
    const base = { name: 'x', templateId: 'ehr-password-expiry', target: { departmentIds: [wardId] }, window: window(2), businessHours: hours, senderDomain: 'phish-hospita1.test' };
    const bad = [
      { ...base, templateId: 'no-such-template' },
      { ...base, window: { start: window(2).end, end: window(2).start } },
      { ...base, window: window(60) },
      { ...base, businessHours: { ...hours, timeZone: 'Mars/Olympus' } },
      { ...base, target: {} },
      // A Saturday-and-Sunday window with weekdays only holds no business hours.
      { ...base, window: { start: '2026-11-28T00:00:00.000Z', end: '2026-11-29T23:00:00.000Z' } },
    ];
    for (const body of bad) {
      const r = await officer.post('/api/v1/phishing/campaigns', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('creates a draft, launches it to the department, and schedules sends in business hours in random order', async () => {
    const created = await officer.post('/api/v1/phishing/campaigns', {
      name: 'EHR expiry, Ward 4',
      templateId: 'ehr-password-expiry',
      target: { departmentIds: [wardId] },
      window: window(3),
      businessHours: hours,
      senderDomain: 'phish-hospita1.test',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: 'draft', recipientCount: 0, difficulty: templateLibrary.find((t) => t.id === 'ehr-password-expiry')!.difficulty });
    campaignId = created.body.id;
    const launched = await officer.post(`/api/v1/phishing/campaigns/${campaignId}/launch`);
    expect(launched.body).toMatchObject({ status: 'scheduled', recipientCount: 6 });
    expect((await officer.post(`/api/v1/phishing/campaigns/${campaignId}/launch`)).body.error.code).toBe('CONFLICT');

    const rows = await server.deps.db.selectFrom('phishing_recipient').selectAll().where('campaign_id', '=', campaignId).execute();
    expect(rows).toHaveLength(6);
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', hourCycle: 'h23', weekday: 'short' });
    for (const r of rows) {
      const parts = fmt.formatToParts(new Date(r.scheduled_at));
      const hour = Number(parts.find((p) => p.type === 'hour')!.value);
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(17);
      expect(['Sat', 'Sun']).not.toContain(parts.find((p) => p.type === 'weekday')!.value);
      expect(r.scheduled_at >= window(3).start).toBe(true);
      expect(r.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    expect(new Set(rows.map((r) => r.token)).size).toBe(6);

    const audit = await auditEntries(server, org.id);
    const types = audit.map((e) => e.type);
    expect(types).toContain('phishing.campaign_created');
    expect(audit.find((e) => e.type === 'phishing.campaign_launched')).toMatchObject({ entity: { type: 'phishing_campaign', id: campaignId }, detail: { recipients: 6 } });
  });

  it('sends nothing before its time, then each mail once with its own tracking id', async () => {
    expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 0 });
    expect(sink.mails).toHaveLength(0);
    await advance(3 * 86_400);
    expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 6, failed: 0 });
    expect(await sendDue(server.deps, mailer)).toMatchObject({ sent: 0 });
    mails = [...sink.mails];
    expect(mails).toHaveLength(6);
    const tokens = new Set(mails.map(tokenOf));
    expect(tokens.size).toBe(6);
    for (const m of mails) {
      const token = tokenOf(m);
      expect(m.parsed.subject).toBe('ACTION REQUIRED: Your EHR password expires in 2 hours');
      expect(m.parsed.from?.value[0]?.address).toBe('ehr-support@phish-hospita1.test');
      expect(m.parsed.messageId).toBe(`<${token}@phish-hospita1.test>`);
      expect(m.parsed.html).toContain(`/t/o/${token}.gif`);
      expect(m.parsed.html).toContain(`href="http://localhost:8080/t/c/${token}"`);
      expect(m.envelopeTo[0]).toMatch(/@phish-hospital\.test$/);
    }
    expect((await officer.get(`/api/v1/phishing/campaigns/${campaignId}`)).body.status).toBe('completed');
  });

  it('tells scanners from people: HEAD, scanner agents and too-early fetches are bots; a person is confirmed by the landing script', async () => {
    const [human, scanned] = mails.map(tokenOf);
    await advance(300); // people read their mail minutes later; scanners are tested by agent and method
    // Mail gateway: HEAD then a GET with a scanner's user agent.
    expect((await rawRequest(server.url, { method: 'HEAD', path: `/t/c/${scanned}`, headers: { 'user-agent': BROWSER } })).status).toBe(200);
    const scan = await rawRequest(server.url, { method: 'GET', path: `/t/c/${scanned}`, headers: { 'user-agent': 'Mozilla/5.0 (compatible; Proofpoint URL Defense)' } });
    expect(scan.status).toBe(200);

    // A person: opens the mail (pixel), clicks, the landing script confirms, they submit the form.
    const pixel = await rawRequest(server.url, { method: 'GET', path: `/t/o/${human}.gif`, headers: { 'user-agent': BROWSER } });
    expect(pixel.headers['content-type']).toBe('image/gif');
    const landing = await rawRequest(server.url, { method: 'GET', path: `/t/c/${human}`, headers: { 'user-agent': BROWSER } });
    expect(landing.status).toBe(200);
    expect(landing.headers['cache-control']).toBe('no-store');
    expect(landing.headers['content-security-policy']).toContain("script-src 'self'");
    const clickId = /data-click="([0-9a-f-]{36})"/.exec(landing.text)![1]!;
    expect(landing.text).toContain('<script src="/t/landing.js">');
    const confirm = await rawRequest(server.url, { method: 'POST', path: `/t/c/${human}/confirm`, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ click: clickId })] });
    expect(confirm.status).toBe(204);
    const form = new URLSearchParams({ _click: clickId, _js: '1', username: 'anna', password: SECRET_PASSWORD, smuggled: 'x' }).toString();
    const submit = await rawRequest(server.url, { method: 'POST', path: `/t/s/${human}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER }, chunks: [form] });
    expect(submit.status).toBe(303);
    expect(submit.headers.location).toBe(`/t/m/${human}`);


    const recipients = (await officer.get(`/api/v1/phishing/campaigns/${campaignId}/recipients`)).body;
    expect(recipients.privacyMode).toBe(true);
    const byKinds = recipients.recipients.map((r: { events: { kind: string; bot: boolean; reason: string | null; fieldsFilled: string[] | null }[] }) => r.events);
    const humanEvents = byKinds.find((ev: { kind: string }[]) => ev.some((e) => e.kind === 'submitted'))!;
    expect(humanEvents.map((e: { kind: string }) => e.kind)).toEqual(['sent', 'opened', 'click', 'click_confirmed', 'submitted']);
    expect(humanEvents.find((e: { kind: string }) => e.kind === 'submitted')).toMatchObject({ bot: false, fieldsFilled: ['username', 'password'] });
    const scannedEvents = byKinds.find((ev: { kind: string; reason: string | null }[]) => ev.some((e) => e.reason === 'head_request'))!;
    expect(scannedEvents.filter((e: { kind: string }) => e.kind === 'click').map((e: { bot: boolean; reason: string }) => [e.bot, e.reason])).toEqual([
      [true, 'head_request'],
      [true, 'scanner_user_agent'],
    ]);
    // Pseudonymous in privacy mode: no names or addresses.
    expect(JSON.stringify(recipients)).not.toContain('phish-hospital.test');

    const results = (await officer.get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body;
    expect(results.counts).toMatchObject({ recipients: 6, sent: 6, clickedHuman: 1, clickedBotOnly: 1, submitted: 1, reported: 0, opened: 1 });
    expect(results.counts.clickRate).toBeCloseTo(1 / 6, 3);
    expect(results.byDepartment).toEqual([{ key: wardId, label: 'Ward 4', counts: expect.objectContaining({ recipients: 6 }) }]);
    // Roles: 6 nurses shown; fewer than 5 of a role would be hidden.
    expect(results.byRole).toEqual([{ key: 'nurse', label: 'nurse', counts: expect.objectContaining({ recipients: 6 }) }]);
  });

  it('never stores a submitted value', async () => {
    const tables = ['phishing_event', 'phishing_recipient', 'phishing_campaign', 'phishing_report', 'audit_entry'] as const;
    for (const t of tables) {
      const rows = await server.deps.db.selectFrom(t).selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(SECRET_PASSWORD);
      expect(JSON.stringify(rows)).not.toContain('smuggled');
    }
  });

  it('shows the clicker the teachable moment with the very mail and its cues, and tracks completion', async () => {
    const token = tokenOf(mails[0]!);
    const page = await rawRequest(server.url, { method: 'GET', path: `/t/m/${token}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain('This was a phishing drill');
    expect(page.text).toContain('<mark title="sense of urgency">expires in 2 hours');
    expect(page.text).toContain('ehr-support@phish-hospita1.test');
    expect(page.text).toContain('/t/m/' + token + '/done');
    const done = await rawRequest(server.url, { method: 'POST', path: `/t/m/${token}/done` });
    expect(done.status).toBe(303);
    const again = await rawRequest(server.url, { method: 'GET', path: `/t/m/${token}` });
    expect(again.text).toContain('marked as completed');
    const results = (await officer.get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body;
    expect(results.counts.lessonsCompleted).toBe(1);
  });

  it('answers unknown and malformed ids exactly as known ones, and records nothing', async () => {
    const before = await server.deps.db.selectFrom('phishing_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const unknown = randomBytes(16).toString('base64url');
    const known = tokenOf(mails[5]!);
    const pixU = await rawRequest(server.url, { method: 'GET', path: `/t/o/${unknown}.gif`, headers: { 'user-agent': 'curl/8' } });
    const pixK = await rawRequest(server.url, { method: 'GET', path: `/t/o/${known}.gif`, headers: { 'user-agent': 'curl/8' } });
    expect([pixU.status, pixU.headers['content-type'], pixU.text]).toEqual([pixK.status, pixK.headers['content-type'], pixK.text]);
    for (const path of [`/t/c/${unknown}`, '/t/c/not-a-token', '/t/m/%00%01']) {
      const r = await rawRequest(server.url, { method: 'GET', path });
      expect(r.status).toBe(200);
    }
    const c = await rawRequest(server.url, { method: 'POST', path: `/t/c/${unknown}/confirm`, headers: { 'content-type': 'application/json' }, chunks: ['{"click":"x"}'] });
    expect(c.status).toBe(204);
    const s = await rawRequest(server.url, { method: 'POST', path: `/t/s/${unknown}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: ['password=x'] });
    expect(s.status).toBe(303);
    const after = await server.deps.db.selectFrom('phishing_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    // Only the known pixel fetch was recorded.
    expect(Number(after.n)).toBe(Number(before.n) + 1);
  });

  it('counts a fetch seconds after delivery as a scanner unless a person confirms it', async () => {
    const c = await officer.post('/api/v1/phishing/campaigns', {
      name: 'Roster',
      templateId: 'roster-change',
      target: { accountIds: [org.clinician.id] },
      window: window(2),
      businessHours: { ...hours, weekdaysOnly: false, startHour: 0, endHour: 24 },
      senderDomain: 'rostering-hub.test',
    });
    await officer.post(`/api/v1/phishing/campaigns/${c.body.id}/launch`);
    await advance(2 * 86_400);
    const before = sink.mails.length;
    expect((await sendDue(server.deps, mailer)).sent).toBe(1);
    const token = tokenOf(sink.mails[before]!);
    const first = await rawRequest(server.url, { method: 'GET', path: `/t/c/${token}`, headers: { 'user-agent': BROWSER } });
    const clickId = /data-click="([0-9a-f-]{36})"/.exec(first.text)![1]!;
    let r = (await officer.get(`/api/v1/phishing/campaigns/${c.body.id}/results`)).body;
    expect(r.counts).toMatchObject({ clickedHuman: 0, clickedBotOnly: 1 });
    await rawRequest(server.url, { method: 'POST', path: `/t/c/${token}/confirm`, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ click: clickId })] });
    r = (await officer.get(`/api/v1/phishing/campaigns/${c.body.id}/results`)).body;
    expect(r.counts).toMatchObject({ clickedHuman: 1, clickedBotOnly: 0 });
    const events = (await officer.get(`/api/v1/phishing/campaigns/${c.body.id}/recipients`)).body.recipients[0].events;
    expect(events.find((e: { kind: string }) => e.kind === 'click')).toMatchObject({ bot: true, reason: 'too_soon_after_delivery' });
    // Fewer than 5 people with this role: its numbers are withheld in privacy mode.
    expect(r.byRole).toEqual([{ key: 'clinician', label: 'clinician', counts: null }]);
  });

  it('exports results as CSV (pseudonymous, audited)', async () => {
    const r = await rawRequest(server.url, { method: 'GET', path: `/api/v1/phishing/campaigns/${campaignId}/export.csv`, headers: { cookie: [...officer.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/csv');
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toBe('person,department,role,status,sent_at,delivered_at,bounced,opened,clicked_human,clicked_bot,submitted,fields_filled,reported_at,lesson_completed');
    expect(lines).toHaveLength(7);
    expect(r.text).not.toContain('@');
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.results_exported' });
  });
});
