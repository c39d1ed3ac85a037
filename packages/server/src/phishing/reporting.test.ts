import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { auditEntries } from '../test-support/audit.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink, type ReceivedMail } from './testing/smtp-sink.js';
import { sendDue } from './sender.js';
import { MAX_EML_BYTES } from '@consilium/protocol';

// Reporting is one click: a simulated mail reported by its recipient counts as reported (with
// time-to-report), anything else goes to the security officer's triage queue. Lessons and the
// suspicious-mail check for every member.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let officer: TestClient;
let officerSecret: string;
let nurse: TestClient;
let nurseSecret: string;
let colleague: TestClient;
let campaignId: string;
let mailToNurse: ReceivedMail;
let mailToColleague: ReceivedMail;

const PHISH = [
  'From: "Microsoft 365" <no-reply@micros0ft-365-security.com>',
  'Reply-To: helpdesk-recovery@protonmail.com',
  'To: nurse@report-hospital.test',
  'Subject: Unusual sign-in activity: verify your account',
  'Authentication-Results: mx.report-hospital.test; spf=fail smtp.mailfrom=micros0ft-365-security.com; dkim=none; dmarc=fail',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Dear user, we detected unusual sign-in activity. Verify your account within 24 hours or it will be suspended:</p>',
  '<p><a href="http://198.51.100.7/owa/login.php">https://outlook.office365.com/verify</a></p>',
  '',
].join('\r\n');

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600 } });
  org = await seedOrg(server, 'Report Hospital');
  const mk = (local: string, role: 'security_officer' | 'nurse') =>
    createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: `${local}@report-hospital.test`, displayName: `${local} Person`, role, departmentId: null, password: 'correct horse battery staple' });
  await mk('officer', 'security_officer');
  const n = await mk('nurse', 'nurse');
  const c = await mk('colleague', 'nurse');
  ({ client: officer, totpSecret: officerSecret } = await signIn(server, 'officer@report-hospital.test'));
  ({ totpSecret: nurseSecret } = await signIn(server, 'nurse@report-hospital.test'));
  const now = server.clock.now().getTime();
  const created = await officer.post('/api/v1/phishing/campaigns', {
    name: 'Payroll',
    templateId: 'hr-payroll-update',
    target: { accountIds: [n.id, c.id] },
    window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'payroll-update.test',
  });
  campaignId = created.body.id;
  await officer.post(`/api/v1/phishing/campaigns/${campaignId}/launch`);
  server.clock.advance(3600);
  const mailer = createMailSender(server.deps.config);
  await sendDue(server.deps, mailer);
  mailer.close();
  mailToNurse = sink.mails.find((m) => m.envelopeTo[0] === 'nurse@report-hospital.test')!;
  mailToColleague = sink.mails.find((m) => m.envelopeTo[0] === 'colleague@report-hospital.test')!;
  server.clock.advance(600); // the nurse notices it ten minutes after delivery
  nurse = (await signIn(server, 'nurse@report-hospital.test', nurseSecret)).client;
  colleague = (await signIn(server, 'colleague@report-hospital.test')).client;
  officer = (await signIn(server, 'officer@report-hospital.test', officerSecret)).client;
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe('one-click reporting', () => {
  it('counts a simulated mail reported by its recipient, once, with time to report', async () => {
    const r = await nurse.post('/api/v1/phishing/reports', { eml: mailToNurse.raw });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ simulated: true, reportId: null });
    expect((await nurse.post('/api/v1/phishing/reports', { eml: mailToNurse.raw })).body.simulated).toBe(true);
    const results = (await officer.get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body;
    expect(results.counts).toMatchObject({ sent: 2, reported: 1, reportRate: 0.5 });
    // sendDue ran at +3600 s; the sign-ins since moved the clock 600 s + 30 s per TOTP step.
    expect(results.counts.medianSecondsToReport).toBeGreaterThanOrEqual(600);
    expect(results.counts.medianSecondsToReport).toBeLessThan(900);
    const entries = (await auditEntries(server, org.id)).filter((e) => e.type === 'phishing.report_received');
    expect(entries.map((e) => e.detail)).toEqual([
      { source: 'button', simulated: true, counted: true },
      { source: 'button', simulated: true, counted: false },
    ]);
  });

  it('matches a forwarded copy whose link was quoted-printable encoded, but gives credit only to the recipient', async () => {
    // A colleague reports the nurse's mail: thanked, but no credit for the colleague's own row.
    const forwarded = `From: colleague@report-hospital.test\r\nSubject: Fwd: payroll\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLook at this:\r\n${mailToColleague.parsed.text!.replace(/(\/t\/c\/)/, '/t/=\r\nc/')}\r\n`;
    const r = await colleague.post('/api/v1/phishing/reports', { eml: forwarded });
    expect(r.body.simulated).toBe(true);
    const results = (await officer.get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body;
    expect(results.counts.reported).toBe(2);
    const other = await nurse.post('/api/v1/phishing/reports', { eml: mailToColleague.raw });
    expect(other.body.simulated).toBe(true);
    expect((await officer.get(`/api/v1/phishing/campaigns/${campaignId}/results`)).body.counts.reported).toBe(2);
  });

  it('sends real mail to the triage queue with the check\'s findings, and lets the officer decide', async () => {
    const r = await nurse.post('/api/v1/phishing/reports', { eml: PHISH, note: 'asked me to sign in' });
    expect(r.body).toMatchObject({ simulated: false });
    const queue = (await officer.get('/api/v1/phishing/triage')).body.items;
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ id: r.body.reportId, source: 'button', status: 'new', verdict: 'likely_phishing', note: 'asked me to sign in', subject: 'Unusual sign-in activity: verify your account' });
    expect(queue[0].reporter).toBe('nurse Person');
    const codes = queue[0].signs.map((s: { code: string }) => s.code);
    expect(codes).toEqual(expect.arrayContaining(['dmarc_fail', 'spf_fail', 'lookalike_domain', 'reply_to_mismatch', 'link_text_mismatch', 'ip_link', 'urgency', 'credential_request']));
    const decided = await officer.post(`/api/v1/phishing/triage/${r.body.reportId}`, { status: 'phishing' });
    expect(decided.body).toMatchObject({ status: 'phishing' });
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.triage_decided', detail: { status: 'phishing' } });
    expect((await nurse.get('/api/v1/phishing/triage')).body.error.code).toBe('FORBIDDEN');
  });

  it('accepts a note alone, and refuses an empty, malformed or oversized report with a clear error', async () => {
    expect((await nurse.post('/api/v1/phishing/reports', { note: 'a caller asked for my code' })).body.simulated).toBe(false);
    expect((await nurse.post('/api/v1/phishing/reports', {})).body.error.code).toBe('VALIDATION_FAILED');
    const big = await nurse.post('/api/v1/phishing/reports', { eml: 'x'.repeat(MAX_EML_BYTES + 1) });
    expect(big.body.error.code).toBe('VALIDATION_FAILED');
    const huge = await nurse.request('POST', '/api/v1/phishing/check', undefined, { raw: JSON.stringify({ eml: 'x'.repeat(MAX_EML_BYTES * 3) }) });
    expect(huge.status).toBe(413);
    expect((await nurse.get('/api/v1/phishing/lessons')).status).toBe(200); // the server lives on
  });
});

describe('suspicious-mail check', () => {
  it('explains the warning signs of a pasted mail in plain language', async () => {
    const r = await nurse.post('/api/v1/phishing/check', { eml: PHISH });
    expect(r.status).toBe(200);
    expect(r.body.verdict).toBe('likely_phishing');
    const link = r.body.signs.find((s: { code: string }) => s.code === 'link_text_mismatch');
    expect(link.explanation).toBe('The link reads "https://outlook.office365.com/verify" but actually leads to 198.51.100.7.');
  });

  it('refuses text that is not a mail', async () => {
    const r = await nurse.post('/api/v1/phishing/check', { eml: 'just some words, no headers at all' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_REQUEST');
  });
});

describe('micro-lessons', () => {
  it('lists five lessons, hides answers, and records completion when the quiz is passed', async () => {
    const list = (await nurse.get('/api/v1/phishing/lessons')).body.lessons;
    expect(list.map((l: { id: string }) => l.id)).toEqual(['sender-spoofing', 'credential-lures', 'attachments-qr', 'mfa-fatigue-phone', 'how-to-report']);
    expect(list.every((l: { completedAt: string | null }) => l.completedAt === null)).toBe(true);
    const lesson = (await nurse.get('/api/v1/phishing/lessons/credential-lures')).body;
    expect(lesson.quiz).toHaveLength(3);
    expect(JSON.stringify(lesson)).not.toContain('answer');
    const wrong = (await nurse.post('/api/v1/phishing/lessons/credential-lures/quiz', { answers: [0, 0, 0] })).body;
    expect(wrong).toMatchObject({ correct: 0, total: 3, passed: false });
    expect((await nurse.get('/api/v1/phishing/lessons')).body.lessons[1].completedAt).toBeNull();
    const right = (await nurse.post('/api/v1/phishing/lessons/credential-lures/quiz', { answers: [1, 1, 2] })).body;
    expect(right).toMatchObject({ correct: 3, passed: true });
    const after = (await nurse.get('/api/v1/phishing/lessons')).body.lessons[1];
    expect(after).toMatchObject({ id: 'credential-lures', bestScore: 3, completedAt: server.clock.now().toISOString() });
    expect((await nurse.get('/api/v1/phishing/lessons/no-such-lesson')).body.error.code).toBe('NOT_FOUND');
  });
});
