import { describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { PASSWORD, seedPerson, watchConsole, useE2e } from './support.js';

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
