import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestServer } from '../test-support/harness.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink } from './testing/smtp-sink.js';
import { DovecotServer, dovecotAvailable } from './testing/dovecot.js';
import { sendDue } from './sender.js';
import { pollReportMailbox } from './report-mailbox.js';

// The report address: staff forward a mail to an IMAP mailbox the server polls. A real Dovecot
// (Debian dovecot-imapd, started privately on loopback) holds the mailbox.

const REPORT = { user: 'report@mailbox-hospital.test', password: 'report-mailbox-pass' };

describe.skipIf(!dovecotAvailable)('report mailbox over IMAP', () => {
  let dovecot: DovecotServer;
  let sink: SmtpSink;
  let server: TestServer;
  let org: SeededOrg;
  let cfg: NonNullable<TestServer['deps']['config']['phishing']['reportMailbox']>;

  const deliver = async (raw: string) => {
    const c = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, auth: { user: REPORT.user, pass: REPORT.password }, logger: false });
    await c.connect();
    await c.append('INBOX', raw);
    await c.logout();
  };

  beforeAll(async () => {
    dovecot = await DovecotServer.start({ [REPORT.user]: REPORT.password });
    sink = await SmtpSink.start();
    const reportMailbox = { host: '127.0.0.1', port: dovecot.port, secure: false, user: REPORT.user, password: REPORT.password, mailbox: 'INBOX', pollSeconds: 3600 };
    server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600, reportMailbox } });
    cfg = server.deps.config.phishing.reportMailbox!;
    org = await seedOrg(server, 'Mailbox Hospital');
    const n = await createAccount(server.deps, systemActor(org.id), { organisationId: org.id, email: 'nurse@mailbox-hospital.test', displayName: 'Nurse', role: 'nurse', departmentId: null, password: 'correct horse battery staple' });
    const officer = (await signIn(server, org.admin.email)).client;
    const now = server.clock.now().getTime();
    const c = await officer.post('/api/v1/phishing/campaigns', {
      name: 'Scan',
      templateId: 'shared-scan',
      target: { accountIds: [n.id] },
      window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
      businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
      senderDomain: 'ward4-scanner.test',
    });
    await officer.post(`/api/v1/phishing/campaigns/${c.body.id}/launch`);
    server.clock.advance(3600);
    const mailer = createMailSender(server.deps.config);
    await sendDue(server.deps, mailer);
    mailer.close();
  });
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
    await dovecot?.stop();
  });

  it('counts a forwarded simulation as reported, files real mail for triage, and reads each message once', async () => {
    const sim = sink.mails[0]!;
    // Forwarded as an attachment (message/rfc822), as "Forward as attachment" and report buttons do.
    await deliver(
      [
        'From: Nurse <nurse@mailbox-hospital.test>',
        `To: ${REPORT.user}`,
        'Subject: Fwd: Scanned document',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="fw"',
        '',
        '--fw',
        'Content-Type: text/plain',
        '',
        'Looks fishy.',
        '--fw',
        'Content-Type: message/rfc822',
        '',
        sim.raw,
        '--fw--',
        '',
      ].join('\r\n'),
    );
    await deliver(
      [
        'From: Nurse <nurse@mailbox-hospital.test>',
        `To: ${REPORT.user}`,
        'Subject: Fwd: invoice',
        'Content-Type: text/plain',
        '',
        '---------- Forwarded message ---------',
        'From: Accounts <billing@paypal-invoices.example>',
        'Please pay the invoice today via https://paypal-invoices.example/pay or your account will be suspended.',
        '',
      ].join('\r\n'),
    );
    await deliver(['From: stranger@elsewhere.example', `To: ${REPORT.user}`, 'Subject: hello', '', 'not staff', ''].join('\r\n'));

    expect(await pollReportMailbox(server.deps, cfg)).toEqual({ simulated: 1, triage: 1, ignored: 1, skipped: 0, bounced: 0 });
    expect(await pollReportMailbox(server.deps, cfg)).toEqual({ simulated: 0, triage: 0, ignored: 0, skipped: 0, bounced: 0 });

    const events = await server.deps.db.selectFrom('phishing_event').selectAll().where('kind', '=', 'reported').execute();
    expect(events.map((e) => e.reason)).toEqual(['mailbox']);
    const reports = await server.deps.db.selectFrom('phishing_report').selectAll().execute();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ source: 'mailbox', reporter_address: 'nurse@mailbox-hospital.test', organisation_id: org.id, status: 'new' });

    // A later message is picked up from where the last poll stopped.
    await deliver(['From: nurse@mailbox-hospital.test', `To: ${REPORT.user}`, 'Subject: another', '', 'Verify your password at https://x.example/login now', ''].join('\r\n'));
    expect(await pollReportMailbox(server.deps, cfg)).toEqual({ simulated: 0, triage: 1, ignored: 0, skipped: 0, bounced: 0 });
  });
});
