import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SmtpSink, type ReceivedMail } from '../packages/server/src/phishing/testing/smtp-sink.js';
import { seedColleagues, signInFirstTime, watchConsole, WAIT, useE2e } from './support.js';

// A phishing drill end to end: a security officer creates and launches a campaign in the web app;
// the server sends it through a real SMTP server on loopback (smtp-server); the test reads the mail
// the nurse received there, follows its link in Chromium (the landing page's own script confirms a
// person), submits the look-alike form, lands on the lesson, reports the mail with the in-app
// "Report phishing" page, and the officer's dashboard counts the report. A mail scanner's HEAD
// request on the officer's own copy shows up as scanner-only, not as a click.

let sink: SmtpSink;

const e2e = useE2e(
  async () => {
    sink = await SmtpSink.start();
    return { smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 1 } };
  },
  () => sink?.close(),
);

/** A datetime-local value `minutes` from now in the page's own time zone (what the form reads). */
const localInput = (page: Page, minutes: number) =>
  page.evaluate((m) => {
    const d = new Date(Date.now() + m * 60_000);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }, minutes);

const linkIn = (mail: ReceivedMail): string => {
  const m = /https?:\/\/[^\s"'<>]+\/t\/c\/[A-Za-z0-9_-]{22}/.exec(mail.parsed.text ?? '');
  if (!m) throw new Error(`no tracking link in the mail:\n${mail.parsed.text}`);
  return m[0];
};

describe('phishing drill in Chromium', () => {
  it('sends a campaign over SMTP; the nurse clicks, sees the lesson, reports; the dashboard counts it', { timeout: 240_000 }, async () => {
    await seedColleagues(e2e.server, 'E2E Phishing Hospital', [
      { email: 'sofia@e2e-phish.test', displayName: 'Sofia Officer', role: 'security_officer' },
      { email: 'ned@e2e-phish.test', displayName: 'Ned Nurse', role: 'nurse' },
      { email: 'ada@e2e-phish.test', displayName: 'Ada Admin', role: 'admin' },
    ]);
    const officer = await (await e2e.browser.newContext()).newPage();
    // Headless Chromium says "HeadlessChrome" in its user agent, which the bot rules rightly treat
    // as a scanner; the nurse's browser is the desktop Chromium a person would use.
    const nurseContext = await e2e.browser.newContext({
      userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${e2e.browser.version()} Safari/537.36`,
    });
    const nurse = await nurseContext.newPage();
    const problems = [watchConsole(officer), watchConsole(nurse)];
    await signInFirstTime(officer, e2e.server.origin, 'sofia@e2e-phish.test');
    await signInFirstTime(nurse, e2e.server.origin, 'ned@e2e-phish.test');

    // The officer creates a draft for everyone. The window started an hour ago and ends in a
    // minute, at any hour on any day, so nearly every send time is already due.
    await officer.getByRole('link', { name: 'Phishing dashboard' }).click();
    await officer.getByRole('heading', { name: 'New campaign' }).waitFor(WAIT);
    await officer.getByLabel('Name', { exact: true }).fill('Winter EHR drill');
    await officer.getByLabel('Template').selectOption('ehr-password-expiry');
    await officer.getByLabel('Everyone in the organisation').check();
    await officer.getByLabel('Window from').fill(await localInput(officer, -60));
    await officer.getByLabel('until').fill(await localInput(officer, 1));
    await officer.getByLabel('Business hours from').fill('0');
    await officer.getByLabel('to', { exact: true }).fill('24');
    await officer.getByLabel('Weekdays only').uncheck();
    await officer.getByLabel(/Sender domain/).fill('e2e-phish-portal.test');
    await officer.getByRole('button', { name: 'Create draft' }).click();
    const row = officer.getByRole('row', { name: /Winter EHR drill/ });
    await row.getByRole('button', { name: 'Launch' }).click(WAIT);
    await row.getByRole('button', { name: 'Results' }).waitFor(WAIT);

    // The three mails (officer, nurse, admin) arrive at the real SMTP server.
    await Promise.race([sink.waitFor(3), new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${sink.count} of 3 mails arrived`)), 180_000))]);
    const nurseMail = sink.mails.find((m) => m.envelopeTo.includes('ned@e2e-phish.test'))!;
    const officerMail = sink.mails.find((m) => m.envelopeTo.includes('sofia@e2e-phish.test'))!;
    expect(nurseMail.parsed.subject).toBeTruthy();
    expect(linkIn(nurseMail)).not.toBe(linkIn(officerMail));

    // A link scanner probes the officer's copy with HEAD right after delivery: not a person.
    expect((await fetch(linkIn(officerMail).replace(/^https?:\/\/[^/]+/, e2e.server.origin), { method: 'HEAD' })).status).toBe(200);

    // The nurse follows the link; typing into the look-alike form is what the page's script takes
    // as a person. The password never leaves this function as a stored value (server tests check that).
    const lure = await nurseContext.newPage();
    problems.push(watchConsole(lure));
    await lure.goto(linkIn(nurseMail).replace(/^https?:\/\/[^/]+/, e2e.server.origin));
    await lure.locator('#lure input:not([type=hidden])').first().pressSequentially('ned', { delay: 5 });
    for (const input of await lure.locator('#lure input:not([type=hidden])').all()) await input.fill('e2e-not-a-real-secret');
    await lure.locator('#lure button[type=submit]').click();

    // The teachable moment: the very mail, its cues marked, and a completion button.
    await lure.getByRole('heading', { name: 'This was a phishing drill, and no harm was done' }).waitFor(WAIT);
    expect(await lure.locator('.mail').textContent()).toContain(nurseMail.parsed.subject!);
    expect(await lure.locator('mark').count()).toBeGreaterThan(0);
    await lure.getByRole('button', { name: 'I have read this' }).click();
    await lure.getByText('this lesson is marked as completed').waitFor(WAIT);

    // The nurse reports the mail in Consilium: the mail's source, one button.
    await nurse.getByRole('link', { name: 'Report phishing' }).click();
    await nurse.getByLabel('Or paste the mail source').fill(nurseMail.raw);
    await nurse.getByRole('button', { name: 'Report phishing' }).click();
    await nurse.getByRole('status').filter({ hasText: /simulat|drill|exercise/i }).waitFor(WAIT);

    // The officer's dashboard counts one person who clicked, one scanner-only, one report.
    await officer.reload();
    const results = officer.getByRole('region', { name: 'Campaign results' });
    await officer.getByRole('row', { name: /Winter EHR drill/ }).getByRole('button', { name: 'Results' }).click(WAIT);
    await results.getByTestId('count-reported').filter({ hasText: '1' }).waitFor(WAIT);
    expect(await results.getByTestId('count-clicked').textContent()).toBe('1');
    expect(await results.getByTestId('count-scanner').textContent()).toBe('1');
    expect(await results.getByTestId('count-submitted').textContent()).toBe('1');
    expect(await results.getByTestId('count-lessons').textContent()).toBe('1');
    // The charts are drawn (chart.js, loaded on demand, paints the canvases under the strict CSP).
    expect(await officer.locator('canvas').count()).toBeGreaterThan(0);
    await officer.waitForFunction(
      () =>
        [...document.querySelectorAll('canvas')].some((c) => {
          const ctx = c.getContext('2d');
          return ctx !== null && c.width > 0 && ctx.getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0);
        }),
      undefined,
      WAIT,
    );

    // The officer owns the campaign and shares it with the admin as a viewer.
    await officer.getByRole('row', { name: /Winter EHR drill/ }).getByRole('button', { name: 'Sharing' }).click();
    const sharing = officer.getByRole('region', { name: 'Campaign sharing' });
    await sharing.getByLabel('Share with').selectOption({ label: 'Ada Admin (ada@e2e-phish.test)' });
    await sharing.getByLabel('as').selectOption('viewer');
    await sharing.getByRole('button', { name: 'Share' }).click();
    await sharing.getByRole('listitem').filter({ hasText: 'Ada Admin' }).filter({ hasText: 'viewer' }).waitFor(WAIT);
    await sharing.getByRole('button', { name: 'Revoke Ada Admin' }).waitFor(WAIT);

    // A custom template: hostile HTML goes in, the server sanitises it, the difficulty is computed,
    // and the preview is a sandboxed srcdoc iframe that renders under the strict CSP (any CSP or
    // sandbox violation would be a console error, caught below).
    await officer.getByText('Custom templates').click();
    const editor = officer.locator('.template-editor');
    await editor.getByLabel('Drill name').fill('Locker key pickup');
    await editor.getByLabel('Theme').fill('Facilities');
    await editor.getByLabel('Subject').fill('Your locker key is ready, {{firstName}}');
    await editor.getByLabel('Sender name').fill('Facilities Desk');
    await editor.getByLabel('Sender address (before the @)').fill('facilities');
    await editor.getByLabel('Link text shown').fill('https://lockers.facilities-desk.test/pickup');
    await editor.getByLabel(/^Text/).fill('Hello {{firstName}},\n\nCollect your locker key today: {{link}}\n\nFacilities Desk');
    await editor.getByLabel(/^HTML/).fill('<p onclick="alert(1)">Collect your locker key <b>today</b>: <a href="{{link}}">pickup page</a></p><script>alert(2)</script><img src="{{pixel}}" alt="">');
    await editor.getByLabel(/Phish Scale cues/).fill('language | sense of urgency | today | A same-day deadline rushes you.');
    await editor.getByRole('button', { name: 'Create template' }).click();
    await editor.getByTestId('template-difficulty').waitFor(WAIT);
    expect(await editor.getByTestId('template-difficulty').textContent()).toMatch(/^(easy|medium|hard)$/);
    const frame = editor.locator('iframe[title="Template preview"]');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('srcdoc')).not.toMatch(/<script|onclick/);
    await officer.frameLocator('iframe[title="Template preview"]').getByText('pickup page').waitFor(WAIT);
    // The campaign form lists the new template.
    expect(await officer.getByLabel('Template').locator('option', { hasText: 'Locker key pickup' }).count()).toBe(1);
    // Deleted after a confirmation: gone from the editor and from the campaign form.
    await editor.getByRole('button', { name: 'Delete template' }).click();
    await officer.getByRole('dialog').getByRole('button', { name: 'Delete template' }).click();
    await expect.poll(() => officer.getByLabel('Template').locator('option', { hasText: 'Locker key pickup' }).count()).toBe(0);
    expect(await editor.getByLabel('Editing').locator('option', { hasText: 'Locker key pickup' }).count()).toBe(0);

    expect(problems.flat()).toEqual([]);
  });
});
