import { describe, expect, it } from 'vitest';
import { checkMail, lookalikeOf, baseDomain } from './mail-check.js';

// The suspicious-mail check on hand-written synthetic mails: one for each warning sign, and
// ordinary mail that must come out clean.

const ctx = { ownDomains: ['stmarys-hospital.org'] };

function eml(headers: Record<string, string>, body: string, contentType = 'text/plain; charset=utf-8'): string {
  const h = { 'MIME-Version': '1.0', Date: 'Mon, 23 Nov 2026 09:00:00 +0000', 'Content-Type': contentType, ...headers };
  return `${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n${body.replace(/\n/g, '\r\n')}\r\n`;
}

const signsOf = async (raw: string) => {
  const r = await checkMail(raw, ctx);
  return { ...r, codes: r.signs.map((s) => s.code) };
};

describe('suspicious-mail check', () => {
  it('reads failed SPF, DKIM and DMARC from the topmost Authentication-Results', async () => {
    const r = await signsOf(
      eml(
        {
          'Authentication-Results': 'mx.stmarys-hospital.org; spf=softfail smtp.mailfrom=payroll.example; dkim=fail header.d=payroll.example; dmarc=fail header.from=stmarys-hospital.org',
          From: 'Payroll <payroll@stmarys-hospital.org>',
          To: 'nurse@stmarys-hospital.org',
          Subject: 'Payslip',
        },
        'Your payslip is ready.',
      ),
    );
    expect(r.codes).toEqual(expect.arrayContaining(['dmarc_fail', 'spf_fail', 'dkim_fail']));
    expect(r.signs[0]!.code).toBe('dmarc_fail');
    expect(r.verdict).toBe('likely_phishing');
  });

  it('spots a display name that carries another address, and a reply-to elsewhere', async () => {
    const r = await signsOf(
      eml(
        { From: '"dr.jansen@stmarys-hospital.org" <dr.jansen.urgent@gmail.com>', 'Reply-To': 'ceo.office@protonmail.com', To: 'a@stmarys-hospital.org', Subject: 'Quick favour' },
        'Are you available? I need you to buy gift cards for a patient event, I will pay you back.',
      ),
    );
    expect(r.codes).toEqual(expect.arrayContaining(['display_name_spoof', 'reply_to_mismatch']));
    expect(r.verdict).toBe('likely_phishing');
  });

  it('spots lookalike and punycode domains, in the sender and in links', async () => {
    const look = await signsOf(eml({ From: 'IT <helpdesk@stmarys-hospitaI.org>', To: 'a@stmarys-hospital.org', Subject: 'Hi' }, 'See https://portal.stmarys-hospitaI.org/login'));
    expect(look.codes).toContain('lookalike_domain');
    const puny = await signsOf(eml({ From: 'PayPal <service@xn--pypal-4ve.com>', To: 'a@b.org', Subject: 'Receipt' }, 'Your receipt.'));
    expect(puny.codes).toEqual(expect.arrayContaining(['punycode_domain']));
    expect(puny.signs.find((s) => s.code === 'punycode_domain')!.explanation).toContain('pаypal.com');
    expect(lookalikeOf('rnicrosoft.com', ['microsoft'])).toBe('microsoft');
    expect(lookalikeOf('microsoft.com', ['microsoft'])).toBeNull();
    expect(lookalikeOf('paypal-secure-login.com', ['paypal'])).toBe('paypal');
    expect(baseDomain('a.b.example.co.uk')).toBe('example.co.uk');
  });

  it('spots links whose text shows one address and whose target is another', async () => {
    const html = '<p>Dear user, your mailbox is full. <a href="https://evil.example.net/x">https://mail.stmarys-hospital.org/quota</a> to verify your account within 24 hours.</p>';
    const r = await signsOf(eml({ From: 'Mail Admin <admin@quota-service.net>', To: 'a@stmarys-hospital.org', Subject: 'Mailbox full' }, html, 'text/html; charset=utf-8'));
    expect(r.codes).toEqual(expect.arrayContaining(['link_text_mismatch', 'credential_request', 'urgency']));
    expect(r.signs.find((s) => s.code === 'link_text_mismatch')!.evidence).toContain('evil.example.net');
    expect(r.verdict).toBe('likely_phishing');
  });

  it('spots risky attachments and double extensions', async () => {
    const boundary = 'b1';
    const raw = eml(
      { From: 'Accounts <ap@supplier.example>', To: 'a@stmarys-hospital.org', Subject: 'Invoice' },
      `--${boundary}
Content-Type: text/plain

Please see the attached invoice.
--${boundary}
Content-Type: text/html; name="invoice.pdf.html"
Content-Disposition: attachment; filename="invoice.pdf.html"

<form action="https://x.example/p"><input name=password></form>
--${boundary}
Content-Type: application/x-iso9660-image; name="scan.iso"
Content-Disposition: attachment; filename="scan.iso"
Content-Transfer-Encoding: base64

AAAA
--${boundary}--`,
      `multipart/mixed; boundary="${boundary}"`,
    );
    const r = await signsOf(raw);
    expect(r.codes).toEqual(expect.arrayContaining(['double_extension', 'risky_attachment']));
    expect(r.attachments.map((a) => a.filename)).toEqual(['invoice.pdf.html', 'scan.iso']);
  });

  it('spots free-mail senders with official names, QR lures and forms', async () => {
    const boundary = 'q1';
    const raw = eml(
      { From: 'IT Security Team <it.security.desk@outlook.com>', To: 'a@stmarys-hospital.org', Subject: 'MFA update' },
      `--${boundary}
Content-Type: text/html

<p>Scan the QR code below with your phone to keep your MFA working. Enter your password when asked.</p><form action="https://x.example"><input name="p"></form>
--${boundary}
Content-Type: image/png; name="qr.png"
Content-Disposition: inline; filename="qr.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--${boundary}--`,
      `multipart/related; boundary="${boundary}"`,
    );
    const r = await signsOf(raw);
    expect(r.codes).toEqual(expect.arrayContaining(['official_name_free_mail', 'qr_code', 'html_form']));
    expect(r.verdict).toBe('likely_phishing');
  });

  it('flags a request to mail back a password or code, but not advice never to share one', async () => {
    const ask = await signsOf(eml({ From: 'Helpdesk <helpdesk.desk@outlook.com>', To: 'a@stmarys-hospital.org', Subject: 'Migration' }, 'To keep your mailbox, reply to this\nmessage with your username and current password.'));
    expect(ask.codes).toContain('secret_by_mail');
    expect(ask.codes).toContain('impersonates_internal');
    expect(ask.verdict).toBe('likely_phishing');
    const code = await signsOf(eml({ From: 'Desk <desk@support-team.example>', To: 'a@stmarys-hospital.org', Subject: 'Reset' }, 'Please reply with the 6-digit verification code you receive by SMS.'));
    expect(code.codes).toContain('secret_by_mail');
    const advice = await signsOf(eml({ From: 'Bank <info@bank.example>', To: 'a@example.org', Subject: 'Tips' }, 'We will never ask you to send us your password or verification code by mail.'));
    expect(advice.codes).not.toContain('secret_by_mail');
  });

  it('spots whole-name typosquats of the organisation: a hyphen added, a letter swapped', async () => {
    expect(lookalikeOf('st-marys-hospital.example', ['stmarys-hospital.org'])).toBe('stmarys-hospital.org');
    expect(lookalikeOf('stmarsy-hospital.org', ['stmarys-hospital.org'])).toBe('stmarys-hospital.org');
    expect(lookalikeOf('stmarys-hospital.org', ['stmarys-hospital.org'])).toBeNull();
    expect(lookalikeOf('stjohns-hospital.org', ['stmarys-hospital.org'])).toBeNull();
  });

  it('treats a link showing the organisation\'s own address, an active attached page and a macro lure as decisive', async () => {
    const own = await signsOf(
      eml({ From: 'EHR <notify@ehr-notices.example>', To: 'a@stmarys-hospital.org', Subject: 'Orders' }, '<p>Sign at <a href="https://collect.example/o">https://ehr.stmarys-hospital.org/orders</a></p>', 'text/html; charset=utf-8'),
    );
    expect(own.codes).toContain('own_link_disguised');
    expect(own.verdict).toBe('likely_phishing');
    const boundary = 'm1';
    const macro = await signsOf(
      eml(
        { From: 'HR <hr@benefits.example>', To: 'a@stmarys-hospital.org', Subject: 'Bonus' },
        `--${boundary}\nContent-Type: text/plain\n\nEnable editing to see your amount.\n--${boundary}\nContent-Type: application/vnd.ms-word.document.macroEnabled.12; name="bonus.docm"\nContent-Disposition: attachment; filename="bonus.docm"\nContent-Transfer-Encoding: base64\n\nUEsDBA==\n--${boundary}\nContent-Type: text/html; name="fax.htm"\nContent-Disposition: attachment; filename="fax.htm"\n\n<script>location="https://x.example"</script>\n--${boundary}--`,
        `multipart/mixed; boundary="${boundary}"`,
      ),
    );
    expect(macro.codes).toEqual(expect.arrayContaining(['enable_content_lure', 'html_attachment_active']));
    expect(macro.verdict).toBe('likely_phishing');
  });

  it('does not count a mailing list\'s Reply-To as a diversion; a company wanting replies at a free mailbox is high', async () => {
    const list = await signsOf(eml({ From: 'Ann <ann@uni.example>', 'Reply-To': 'devel@lists.example.org', 'List-Id': '<devel.lists.example.org>', To: 'devel@lists.example.org', Subject: 'Re: build' }, 'Works for me.'));
    expect(list.codes).not.toContain('reply_to_mismatch');
    const bec = await signsOf(
      eml({ From: 'Accounts <ar@supplier.example>', 'Reply-To': 'supplier.accounts@outlook.com', To: 'a@stmarys-hospital.org', Subject: 'Remittance' }, 'Our bank account has changed. Pay invoice 4471 to the new account below.'),
    );
    expect(bec.signs.find((s) => s.code === 'reply_to_mismatch')!.severity).toBe('high');
    expect(bec.verdict).toBe('likely_phishing');
  });

  it('finds no signs in ordinary mail', async () => {
    const cases = [
      eml(
        {
          'Authentication-Results': 'mx.stmarys-hospital.org; spf=pass smtp.mailfrom=stmarys-hospital.org; dkim=pass header.d=stmarys-hospital.org; dmarc=pass',
          From: 'Jan de Vries <j.devries@stmarys-hospital.org>',
          To: 'team@stmarys-hospital.org',
          Subject: 'Journal club on Thursday',
        },
        'Hi all,\n\nJournal club is on Thursday at 12:30 in room 2.14. This week: the SPRINT trial.\n\nJan',
      ),
      eml(
        { From: 'Linux kernel list <list@vger.example.org>', To: 'me@example.org', Subject: 'Re: [PATCH] fix build' },
        'On Mon, someone wrote:\n> patch\n\nApplied, thanks. See https://git.example.org/commit/abc',
      ),
      eml({ From: 'Mum <mum@gmail.com>', To: 'me@example.org', Subject: 'Sunday' }, 'Dinner at 6? Bring the kids.'),
    ];
    for (const raw of cases) {
      const r = await signsOf(raw);
      expect(r.verdict, JSON.stringify(r.signs)).toBe('no_signs');
    }
  });

  it('survives malformed MIME without throwing', async () => {
    const r = await checkMail('Content-Type: multipart/mixed; boundary="x"\r\nFrom: <<<>>>\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<a href="javascript:alert(1)">click</a>', ctx);
    expect(r.signs.map((s) => s.code)).toContain('script_link');
  });
});
