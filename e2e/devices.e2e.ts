import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { generate } from 'otplib';
import { PASSWORD, seedColleagues, signInFirstTime, watchConsole, send, WAIT, useE2e } from './support.js';

// A person's devices over time: a new browser is noticed by their other devices and joins their
// existing conversations (added by a colleague's client); a revoked one loses its leaf.

const e2e = useE2e();



async function signInAgain(page: Page, origin: string, email: string, secret: string): Promise<void> {
  await page.goto(origin);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Authentication code').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await page.getByRole('button', { name: 'Verify' }).click();
}

describe('devices in Chromium', () => {
  it('a new browser of a colleague is announced to their other device and joins their conversations; revoking it removes its leaf', async () => {
    const { accounts } = await seedColleagues(e2e.server, 'E2E New Device Hospital', [
      { email: 'gina@e2e-new-device.test', displayName: 'Dr Gina Hart', role: 'clinician' },
      { email: 'hugo@e2e-new-device.test', displayName: 'Dr Hugo Penn', role: 'clinician' },
    ]);
    const gina = await (await e2e.browser.newContext()).newPage();
    const hugoLaptop = await (await e2e.browser.newContext()).newPage();
    const problems = [watchConsole(gina), watchConsole(hugoLaptop)];
    await signInFirstTime(gina, e2e.server.origin, 'gina@e2e-new-device.test');
    const hugoSecret = await signInFirstTime(hugoLaptop, e2e.server.origin, 'hugo@e2e-new-device.test');
    for (const page of [gina, hugoLaptop]) await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);

    await gina.getByRole('button', { name: 'New conversation' }).click();
    await gina.getByRole('checkbox', { name: /Dr Hugo Penn/ }).check();
    await gina.getByRole('button', { name: 'Start conversation' }).click();
    await gina.getByRole('heading', { name: 'Dr Hugo Penn' }).waitFor(WAIT);
    await send(gina, 'Before your new browser: ward round at 8.');
    await hugoLaptop.getByRole('link', { name: /Dr Gina Hart/ }).click(WAIT);
    await hugoLaptop.locator('.message', { hasText: 'ward round at 8' }).waitFor(WAIT);

    // Hugo signs in on a second browser: a new device on his account.
    const hugoPhone = await (await e2e.browser.newContext()).newPage();
    problems.push(watchConsole(hugoPhone));
    await signInAgain(hugoPhone, e2e.server.origin, 'hugo@e2e-new-device.test', hugoSecret);
    await hugoPhone.getByRole('button', { name: 'New conversation' }).and(hugoPhone.locator(':enabled')).waitFor(WAIT);

    // His laptop tells him at once; only he can say whether it was him.
    const alert = hugoLaptop.getByRole('alert').filter({ hasText: 'A new device was added to your account' });
    await alert.waitFor(WAIT);
    await alert.getByRole('button', { name: 'It was me' }).click();
    await expect.poll(() => alert.count(), WAIT).toBe(0);

    // Gina's client adds the new device to their conversation; it reads what is sent from then on.
    await hugoPhone.getByRole('link', { name: /Dr Gina Hart/ }).click(WAIT);
    // The composer appears once a Welcome has brought this device into the group.
    await hugoPhone.getByLabel('Message', { exact: true }).waitFor(WAIT);
    await send(gina, 'After your new browser: bed 4 needs you.');
    await hugoPhone.locator('.message', { hasText: 'bed 4 needs you' }).waitFor(WAIT);
    await send(hugoPhone, 'On it, from the new browser.');
    await gina.locator('.message:not(.message-own)', { hasText: 'from the new browser' }).waitFor(WAIT);
    await hugoLaptop.locator('.message', { hasText: 'from the new browser' }).waitFor(WAIT);

    // Hugo revokes the new browser from his laptop; a remaining member's client removes its leaf.
    const phoneDevice = await e2e.server.deps.db
      .selectFrom('device')
      .select('id')
      .where('account_id', '=', accounts[1]!.id)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    await hugoLaptop.getByRole('link', { name: 'Profile' }).click();
    await expect.poll(() => hugoLaptop.getByTestId('device-fingerprint').count(), WAIT).toBe(2);
    await hugoLaptop.getByRole('button', { name: /^Revoke / }).click();
    await hugoLaptop.getByRole('button', { name: 'Revoke device' }).click();
    await hugoPhone.getByText('Your session has ended. Please sign in again.').waitFor(WAIT);
    await expect
      .poll(
        async () =>
          (await e2e.server.deps.db.selectFrom('conversation_device').select('removed_seq').where('device_id', '=', phoneDevice.id).executeTakeFirst())?.removed_seq ?? null,
        WAIT,
      )
      .not.toBeNull();
    await hugoLaptop.getByRole('link', { name: 'Conversations' }).click();
    await hugoLaptop.getByRole('link', { name: /Dr Gina Hart/ }).click();
    await send(gina, 'After the revocation.');
    await hugoLaptop.locator('.message', { hasText: 'After the revocation.' }).waitFor(WAIT);

    // The revoked browser's last request is answered 401, which it logs. Two clients may race to
    // add or remove the same leaf: the loser's commit is refused with 409 STALE_EPOCH (logged by the
    // browser), it catches up and finds nothing left to do. Nothing else may go wrong.
    expect(problems.flat().filter((p) => !/status of (401|409)/.test(p))).toEqual([]);
  });
});
