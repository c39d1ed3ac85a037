import { describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { PASSWORD, seedPerson, signInFirstTime, watchConsole, useE2e, WAIT } from './support.js';

const e2e = useE2e();

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('sign-in in Chromium', () => {
  it('enrols TOTP on first sign-in, then signs in with password + TOTP and sees the messenger shell', async () => {
    const email = 'dr.e2e@e2e-hospital.test';
    await seedPerson(e2e.server, 'E2E Hospital', email, 'admin');
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);

    // First sign-in: the organisation requires MFA, so the app asks to set up an authenticator.
    await page.goto(e2e.server.origin);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await page.getByLabel('Authentication code').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'I have saved these codes' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Conversations' }).isVisible()).toBe(true);

    // The session cookie is not readable by scripts.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('E-mail').waitFor();

    // Second sign-in: password, then a code from the authenticator. The enrolment code's time step
    // is spent (replay protection), so use the next step's code, within the accepted drift.
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Authentication code').fill(await generate({ secret, epoch: inSeconds(30) }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Conversations' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('link', { name: 'Admin' }).isVisible()).toBe(true);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('an admin invites a colleague, who picks a name and password from the link and signs in with them', async () => {
    await seedPerson(e2e.server, 'E2E Invite Hospital', 'admin@e2e-invite.test', 'admin');
    const context = await e2e.browser.newContext();
    const admin = await context.newPage();
    const problems = watchConsole(admin);
    await signInFirstTime(admin, e2e.server.origin, 'admin@e2e-invite.test');
    await admin.getByRole('link', { name: 'Admin' }).click();
    await admin.getByRole('link', { name: 'Invitations' }).click();
    await admin.getByLabel('E-mail').fill('new.colleague@e2e-invite.test');
    await admin.getByRole('button', { name: 'Create invitation' }).click();
    const link = await admin.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(new RegExp(`^${e2e.server.origin}/#/invite/`));

    // The invitee, in a browser of their own.
    const inviteeContext = await e2e.browser.newContext();
    const invitee = await inviteeContext.newPage();
    const inviteeProblems = watchConsole(invitee);
    await invitee.goto(link);
    await invitee.getByLabel('Display name').fill('Dr New Colleague');
    await invitee.getByLabel('Password', { exact: true }).fill('too short');
    await invitee.getByLabel('Confirm password').fill('something else');
    await invitee.getByRole('button', { name: 'Create account' }).click();
    await invitee.getByText(/Use at least \d+ characters\./).waitFor(WAIT);
    await invitee.getByText('The two passwords do not match.').waitFor(WAIT);
    await invitee.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await invitee.getByLabel('Confirm password').fill(PASSWORD);
    await invitee.getByRole('button', { name: 'Create account' }).click();
    await invitee.getByText('Your account is ready. Sign in with your e-mail address and new password.').waitFor(WAIT);
    expect(await invitee.getByLabel('E-mail').inputValue()).toBe('new.colleague@e2e-invite.test');
    await invitee.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await invitee.getByRole('button', { name: 'Sign in' }).click();
    // The organisation requires MFA: the new account is asked to set up an authenticator.
    await invitee.getByTestId('totp-secret').waitFor(WAIT);

    expect(problems).toEqual([]);
    expect(inviteeProblems).toEqual([]);
    await inviteeContext.close();
    await context.close();
  });

  it('serves the app under a strict Content-Security-Policy', async () => {
    const res = await fetch(e2e.server.origin + '/');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
