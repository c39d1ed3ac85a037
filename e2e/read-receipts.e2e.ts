import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seedColleagues, signInFirstTime, watchConsole, send, WAIT, useE2e } from './support.js';

const e2e = useE2e();

const shot = (page: Page, name: string) => (process.env.E2E_SCREENSHOTS ? page.screenshot({ path: `/tmp/read-receipts-${name}.png`, fullPage: true }) : undefined);

/** Turns "Send read receipts" on or off on the profile page, and comes back to the conversation list. */
async function setReadReceipts(page: Page, on: boolean): Promise<void> {
  await page.getByRole('link', { name: 'Profile' }).click();
  const box = page.getByRole('checkbox', { name: 'Send read receipts' });
  await box.and(page.locator(':enabled')).waitFor(WAIT);
  await box.setChecked(on);
  // Saved: the box is enabled again and shows the server's answer.
  await box.and(page.locator(':enabled')).waitFor(WAIT);
  expect(await box.isChecked()).toBe(on);
  await page.getByRole('link', { name: 'Conversations' }).click();
}

/** The read marker the server holds for an account in its conversations (none while read receipts are off). */
/** The receipt under an own message, without the " · " that joins it to "Sent". */
const receiptText = async (receipt: ReturnType<Page['locator']>) => (await receipt.textContent())?.replace(/^[\s·]+/, '');

const markersOf = (accountId: string) => e2e.server.deps.db.selectFrom('read_marker').select('read_seq').where('account_id', '=', accountId).execute();

describe('read receipts can be turned off in Chromium', () => {
  it('off, each side sees "Delivered" and never "Read", both ways; on again, "Read" comes back', async () => {
    const { accounts } = await seedColleagues(e2e.server, 'E2E Read Receipts Hospital', [
      { email: 'rae@e2e-read-receipts.test', displayName: 'Dr Rae Quill', role: 'clinician' },
      { email: 'sam@e2e-read-receipts.test', displayName: 'Dr Sam Ives', role: 'clinician' },
    ]);
    const [raeAccount, samAccount] = accounts as [(typeof accounts)[0], (typeof accounts)[0]];
    const rae = await (await e2e.browser.newContext()).newPage();
    const sam = await (await e2e.browser.newContext()).newPage();
    const problems = [watchConsole(rae), watchConsole(sam)];
    for (const [page, email] of [[rae, 'rae@e2e-read-receipts.test'], [sam, 'sam@e2e-read-receipts.test']] as const) {
      await signInFirstTime(page, e2e.server.origin, email);
      await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);
    }

    // Rae turns read receipts off; the profile explains what that means, and it stays off on reload.
    await rae.getByRole('link', { name: 'Profile' }).click();
    const box = rae.getByRole('checkbox', { name: 'Send read receipts' });
    await box.waitFor(WAIT);
    expect(await box.isChecked()).toBe(true);
    expect(await rae.locator(`#${await box.getAttribute('aria-describedby')}`).textContent()).toMatch(/you likewise see only “Delivered”, never “Read”/);
    await setReadReceipts(rae, false);
    await rae.reload();
    await rae.getByRole('link', { name: 'Profile' }).click();
    await rae.getByRole('checkbox', { name: 'Send read receipts' }).and(rae.locator(':enabled')).waitFor(WAIT);
    expect(await rae.getByRole('checkbox', { name: 'Send read receipts' }).isChecked()).toBe(false);
    await shot(rae, 'profile-off');
    await rae.getByRole('link', { name: 'Conversations' }).click();

    // Rae writes; Sam (read receipts on) opens the thread and reads it, and the server holds his marker.
    await rae.getByRole('button', { name: 'New conversation' }).click();
    await rae.getByRole('checkbox', { name: /Dr Sam Ives/ }).check();
    await rae.getByRole('button', { name: 'Start conversation' }).click();
    await rae.getByRole('heading', { name: 'Dr Sam Ives' }).waitFor(WAIT);
    await send(rae, 'Can you see bed 3 after the round?');
    await sam.getByRole('link', { name: /Dr Rae Quill/ }).click(WAIT);
    await sam.locator('.message', { hasText: 'Can you see bed 3 after the round?' }).waitFor(WAIT);
    await expect.poll(async () => (await markersOf(samAccount.id)).length, WAIT).toBe(1);
    // Rae, who sends none, is shown none: "Delivered", also when fetched afresh after a reload.
    const raeFirst = () => rae.locator('.message-own', { hasText: 'Can you see bed 3 after the round?' }).locator('.message-receipt');
    await expect.poll(() => receiptText(raeFirst()), WAIT).toBe('Delivered');
    await rae.reload();
    await rae.getByRole('link', { name: /Dr Sam Ives/ }).click(WAIT);
    await expect.poll(() => receiptText(raeFirst()), WAIT).toBe('Delivered');
    await shot(rae, 'delivered-not-read');

    // Sam writes while Rae has the thread open: she reads it, and Sam still sees only "Delivered".
    await send(sam, 'Yes, at 10.');
    await rae.locator('.message:not(.message-own)', { hasText: 'Yes, at 10.' }).waitFor(WAIT);
    const samReply = () => sam.locator('.message-own', { hasText: 'Yes, at 10.' }).locator('.message-receipt');
    await expect.poll(() => receiptText(samReply()), WAIT).toBe('Delivered');
    expect(await markersOf(raeAccount.id)).toEqual([]);
    await sam.reload();
    await sam.getByRole('link', { name: /Dr Rae Quill/ }).click(WAIT);
    await expect.poll(() => receiptText(samReply()), WAIT).toBe('Delivered');

    // Rae turns them on again: she sees Sam's read state at once, and hers shows from her next read.
    await setReadReceipts(rae, true);
    await rae.getByRole('link', { name: /Dr Sam Ives/ }).click(WAIT);
    await expect.poll(() => receiptText(raeFirst()), WAIT).toBe('Read');
    await expect.poll(() => receiptText(samReply()), WAIT).toBe('Read');
    await shot(sam, 'read-again');

    expect(problems.flat()).toEqual([]);
    for (const page of [rae, sam]) await page.context().close();
  }, 180_000);
});
