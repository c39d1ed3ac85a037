import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seedPerson, signInFirstTime, watchConsole, useE2e } from './support.js';

const e2e = useE2e();

/** Checkpoints are signed about once a second, so the browser's verdict can take a moment. */
const CHECKPOINT_WAIT = { timeout: 15_000 };
const logStatus = (page: Page) => page.getByTestId('audit-log-status').innerText();

async function openAuditLog(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Log integrity' }).waitFor();
}

describe('audit log in Chromium', () => {
  it('shows an admin their own sign-in, with the checkpoint and the entry verified in the browser', async () => {
    const email = 'dr.audit@e2e-audit.test';
    await seedPerson(e2e.server, 'E2E Audit Hospital', email, 'admin');
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);

    await signInFirstTime(page, e2e.server.origin, email);
    await openAuditLog(page);

    // First visit: the browser checks the signed checkpoint itself and pins it.
    await expect.poll(() => logStatus(page), CHECKPOINT_WAIT).toContain('Checkpoint verified in your browser');

    const signIn = page.getByRole('row').filter({ hasText: 'auth.sign_in' }).filter({ hasText: email });
    await expect.poll(() => signIn.count()).toBe(1);
    await signIn.getByRole('button').click();
    const entry = page.getByRole('dialog');
    expect(await entry.getByLabel(/as JSON/).textContent()).toContain('"type": "auth.sign_in"');
    await entry.getByRole('button', { name: 'Verify inclusion' }).click();
    await expect.poll(() => entry.getByText('Included in the signed log').isVisible(), CHECKPOINT_WAIT).toBe(true);
    await page.keyboard.press('Escape');
    await entry.waitFor({ state: 'detached' });

    // Next visit: the new checkpoint must extend the pinned one, by a proof checked in the browser.
    await page.reload();
    await expect.poll(() => logStatus(page), CHECKPOINT_WAIT).toContain('Log consistent with the checkpoint you saw on');

    // Reading the log was itself recorded.
    await page.getByLabel('Event').selectOption('audit.read');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'audit.read' }).count()).toBeGreaterThan(0);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('lets a security officer open only the audit log, and alerts when the log no longer extends what the browser saw', async () => {
    const email = 'sec.audit@e2e-audit.test';
    await seedPerson(e2e.server, 'E2E Audit Clinic', email, 'security_officer');
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);

    await signInFirstTime(page, e2e.server.origin, email);
    expect(await page.getByRole('link', { name: 'Admin', exact: true }).count()).toBe(0);
    await openAuditLog(page);
    await expect.poll(() => logStatus(page), CHECKPOINT_WAIT).toContain('Checkpoint verified in your browser');
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'auth.sign_in' }).count()).toBe(1);

    // Pretend this browser once saw a different tree of the same size: the server cannot prove
    // that its log extends it, which is what a rewritten history looks like.
    await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('consilium.auditCheckpoint.'))!;
      const pin = JSON.parse(localStorage.getItem(key)!) as { rootHash: string };
      localStorage.setItem(key, JSON.stringify({ ...pin, rootHash: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))) }));
    });
    await page.reload();
    await expect.poll(() => logStatus(page), CHECKPOINT_WAIT).toContain('The log changed history');

    await page.goto(`${e2e.server.origin}/#/admin/members`);
    await expect.poll(() => page.getByRole('heading', { name: 'Not available' }).isVisible()).toBe(true);

    expect(problems).toEqual([]);
    await context.close();
  });
});
