import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { generate } from 'otplib';
import { PASSWORD, seedColleagues, signInFirstTime, watchConsole, send, WAIT, useE2e } from './support.js';

const e2e = useE2e();

const shot = (page: Page, name: string) => (process.env.E2E_SCREENSHOTS ? page.screenshot({ path: `/tmp/messaging-${name}.png`, fullPage: true }) : undefined);


describe('messaging in Chromium', () => {
  it('two clinicians exchange end-to-end encrypted messages in a direct conversation', async () => {
    await seedColleagues(e2e.server, 'E2E Messaging Hospital', [
      { email: 'alice@e2e-messaging.test', displayName: 'Dr Alice Ward', role: 'clinician' },
      { email: 'bob@e2e-messaging.test', displayName: 'Dr Bob Lane', role: 'clinician' },
    ]);
    const contextA = await e2e.browser.newContext();
    const contextB = await e2e.browser.newContext();
    const a = await contextA.newPage();
    const b = await contextB.newPage();
    const problemsA = watchConsole(a);
    const problemsB = watchConsole(b);

    const secretA = await signInFirstTime(a, e2e.server.origin, 'alice@e2e-messaging.test');
    await signInFirstTime(b, e2e.server.origin, 'bob@e2e-messaging.test');
    // Each browser registers its device and publishes key packages before it can be added.
    for (const page of [a, b]) await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);

    // A starts a direct conversation with B from the directory.
    await a.getByRole('button', { name: 'New conversation' }).click();
    await a.getByLabel('Search colleagues').fill('Bob');
    await a.getByRole('checkbox', { name: /Dr Bob Lane/ }).check();
    await shot(a, 'new-conversation');
    await a.getByRole('button', { name: 'Start conversation' }).click();
    await a.getByRole('heading', { name: 'Dr Bob Lane' }).waitFor(WAIT);
    await send(a, 'Hello Bob, can you review bed 12? <b>not bold</b>');

    // B joins through the Welcome, sees the conversation with one unread message, and reads it.
    const fromA = b.getByRole('link', { name: /Dr Alice Ward/ });
    await fromA.waitFor(WAIT);
    await expect.poll(() => fromA.locator('.unread-count').textContent(), WAIT).toBe('1');
    await shot(b, 'unread');
    await fromA.click();
    const received = b.locator('.message', { hasText: 'Hello Bob, can you review bed 12?' });
    await received.waitFor(WAIT);
    // Text stays text: the markup in the message is not rendered as HTML.
    expect(await received.locator('.message-text').textContent()).toBe('Hello Bob, can you review bed 12? <b>not bold</b>');
    expect(await received.locator('b').count()).toBe(0);
    await expect.poll(() => fromA.locator('.unread-count').count()).toBe(0);

    // B replies; A sees it in the open thread, pushed over the WebSocket.
    await send(b, 'On my way, **now**.', 'On my way, now.');
    const reply = a.locator('.message:not(.message-own)', { hasText: 'On my way, now.' });
    await reply.waitFor(WAIT);
    expect(await reply.locator('strong').textContent()).toBe('now');
    await shot(a, 'thread-a');
    await shot(b, 'thread-b');

    // Each profile lists this browser's device with a safety fingerprint.
    await a.getByRole('link', { name: 'Profile' }).click();
    await a.getByRole('heading', { name: 'Devices' }).waitFor();
    await expect.poll(() => a.getByTestId('device-fingerprint').first().textContent(), WAIT).toMatch(/^(\d{5} ){11}\d{5}$/);
    await shot(a, 'devices');

    // A message whose sending fails (the network drops every try) is marked, and goes out on retry
    // with the same id and bytes.
    await a.getByRole('link', { name: 'Conversations' }).click();
    await a.getByRole('link', { name: /Dr Bob Lane/ }).click();
    await a.route('**/api/v1/conversations/*/messages', (route) => (route.request().method() === 'POST' ? route.abort('connectionreset') : route.fallback()));
    await a.getByLabel('Message', { exact: true }).fill('Lab results attached.');
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const failed = a.locator('.message-own', { hasText: 'Lab results attached.' });
    await failed.locator('.message-status', { hasText: 'Not sent' }).waitFor(WAIT);
    await a.unroute('**/api/v1/conversations/*/messages');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await failed.locator('.message-status', { hasText: 'Sent' }).waitFor(WAIT);
    await b.locator('.message:not(.message-own)', { hasText: 'Lab results attached.' }).waitFor(WAIT);

    // A second tab of the same browser does not run a second copy of the same device.
    const a2 = await contextA.newPage();
    const problemsA2 = watchConsole(a2);
    await a2.goto(e2e.server.origin);
    await a2.getByText('Consilium is open in another tab of this browser.').waitFor(WAIT);
    await a2.close();
    expect(problemsA2).toEqual([]);

    // History and group state survive a reload (sealed in IndexedDB).
    await a.reload();
    await a.getByRole('link', { name: 'Conversations' }).click();
    await a.getByRole('link', { name: /Dr Bob Lane/ }).click();
    await a.locator('.message', { hasText: 'On my way, now.' }).waitFor(WAIT);

    // A signs out; B writes meanwhile; A signs in again on a new session: the browser's device
    // proves possession of its key (no new device), catches up and shows the message as unread.
    await a.getByRole('button', { name: 'Sign out' }).click();
    await a.getByLabel('E-mail').waitFor();
    await send(b, 'Bed 12 is fine now.');
    await a.getByLabel('E-mail').fill('alice@e2e-messaging.test');
    await a.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await a.getByRole('button', { name: 'Sign in' }).click();
    await a.getByLabel('Authentication code').fill(await generate({ secret: secretA, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await a.getByRole('button', { name: 'Verify' }).click();
    const fromB = a.getByRole('link', { name: /Dr Bob Lane/ });
    await expect.poll(() => fromB.locator('.unread-count').textContent(), WAIT).toBe('1');
    await fromB.click();
    await a.locator('.message', { hasText: 'Bed 12 is fine now.' }).waitFor(WAIT);
    await send(a, 'Thanks!');
    await b.locator('.message:not(.message-own)', { hasText: 'Thanks!' }).waitFor(WAIT);
    await a.getByRole('link', { name: 'Profile' }).click();
    await a.getByRole('heading', { name: 'Devices' }).waitFor();
    await expect.poll(() => a.getByTestId('device-fingerprint').count(), WAIT).toBe(1);

    // The dropped requests of the failed send are logged by the browser; nothing else is.
    expect(problemsA.filter((p) => !/ERR_CONNECTION_RESET/.test(p))).toEqual([]);
    expect(problemsB).toEqual([]);
    await contextA.close();
    await contextB.close();
  });

  it('three colleagues talk in a group conversation', async () => {
    await seedColleagues(e2e.server, 'E2E Group Hospital', [
      { email: 'carol@e2e-group.test', displayName: 'Dr Carol Stone', role: 'clinician' },
      { email: 'dan@e2e-group.test', displayName: 'Nurse Dan Reed', role: 'nurse' },
      { email: 'erin@e2e-group.test', displayName: 'Dr Erin Cole', role: 'clinician' },
    ]);
    const pages: Page[] = [];
    const problems: string[][] = [];
    for (const email of ['carol@e2e-group.test', 'dan@e2e-group.test', 'erin@e2e-group.test']) {
      const page = await (await e2e.browser.newContext()).newPage();
      problems.push(watchConsole(page));
      await signInFirstTime(page, e2e.server.origin, email);
      await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);
      pages.push(page);
    }
    const [carol, dan, erin] = pages as [Page, Page, Page];

    await carol.getByRole('button', { name: 'New conversation' }).click();
    await carol.getByRole('checkbox', { name: /Nurse Dan Reed/ }).check();
    await carol.getByRole('checkbox', { name: /Dr Erin Cole/ }).check();
    await carol.getByRole('button', { name: 'Start group conversation' }).click();
    await carol.getByRole('heading', { name: /^(Nurse Dan Reed, Dr Erin Cole|Dr Erin Cole, Nurse Dan Reed)$/ }).waitFor(WAIT);
    await send(carol, 'Handover at 3pm.');

    for (const page of [dan, erin]) {
      await page.getByRole('link', { name: /Dr Carol Stone/ }).click(WAIT);
      await page.locator('.message', { hasText: 'Handover at 3pm.' }).waitFor(WAIT);
    }
    await send(erin, 'I will be there.');
    for (const page of [carol, dan]) await page.locator('.message:not(.message-own)', { hasText: 'I will be there.' }).waitFor(WAIT);
    expect(await dan.locator('.message-sender').allTextContents()).toEqual(['Dr Carol Stone', 'Dr Erin Cole']);
    await shot(dan, 'group');

    expect(problems.flat()).toEqual([]);
    for (const page of pages) await page.context().close();
  });

  it('read receipts, edits and deletes between two clinicians; members, titles and leaving in a group', async () => {
    await seedColleagues(e2e.server, 'E2E Receipts Hospital', [
      { email: 'nia@e2e-receipts.test', displayName: 'Dr Nia Hart', role: 'clinician' },
      { email: 'omar@e2e-receipts.test', displayName: 'Dr Omar Vale', role: 'clinician' },
      { email: 'pia@e2e-receipts.test', displayName: 'Nurse Pia Lund', role: 'nurse' },
      // Never signs in: a member with no device yet.
      { email: 'quin@e2e-receipts.test', displayName: 'Dr Quin Ash', role: 'clinician' },
    ]);
    const pages: Page[] = [];
    const problems: string[][] = [];
    for (const email of ['nia@e2e-receipts.test', 'omar@e2e-receipts.test', 'pia@e2e-receipts.test']) {
      const page = await (await e2e.browser.newContext()).newPage();
      problems.push(watchConsole(page));
      await signInFirstTime(page, e2e.server.origin, email);
      await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);
      pages.push(page);
    }
    const [nia, omar, pia] = pages as [Page, Page, Page];

    // Receipts: Nia writes while Omar looks at another page; his device receives it ("Delivered"),
    // then he opens the thread ("Read").
    await nia.getByRole('button', { name: 'New conversation' }).click();
    await nia.getByRole('checkbox', { name: /Dr Omar Vale/ }).check();
    await nia.getByRole('button', { name: 'Start conversation' }).click();
    await nia.getByRole('heading', { name: 'Dr Omar Vale' }).waitFor(WAIT);
    await send(nia, 'Can you review bed 12 before noon?');
    const first = nia.locator('.message-own', { hasText: 'Can you review bed 12 before noon?' });
    const fromNia = omar.getByRole('link', { name: /Dr Nia Hart/ });
    await expect.poll(() => fromNia.locator('.unread-count').textContent(), WAIT).toBe('1');
    await first.locator('.message-receipt', { hasText: 'Delivered' }).waitFor(WAIT);
    await shot(nia, 'receipt-delivered');
    await fromNia.click();
    await omar.locator('.message', { hasText: 'Can you review bed 12 before noon?' }).waitFor(WAIT);
    await first.locator('.message-receipt', { hasText: 'Read' }).waitFor(WAIT);
    await shot(nia, 'receipt-read');
    // Typing indicator: Omar types, Nia sees it (never stored; gone when his message arrives).
    await omar.getByLabel('Message', { exact: true }).fill('Yes');
    await nia.getByText('Dr Omar Vale is typing…').waitFor(WAIT);
    // Both have the thread open: Omar's reply is read at once.
    await send(omar, 'Yes, at 11.');
    await expect.poll(() => nia.getByText('Dr Omar Vale is typing…').count(), WAIT).toBe(0);
    await omar.locator('.message-own', { hasText: 'Yes, at 11.' }).locator('.message-receipt', { hasText: 'Read' }).waitFor(WAIT);

    // Nia edits her message; Omar sees the new text, marked as edited. Only own messages offer it.
    await first.getByRole('button', { name: 'Edit' }).click();
    await nia.getByLabel('Edit message').fill('Can you review bed 14 before noon?');
    await nia.getByRole('button', { name: 'Save edit' }).click();
    const edited = omar.locator('.message', { hasText: 'Can you review bed 14 before noon?' });
    await edited.locator('.message-edited').waitFor(WAIT);
    expect(await omar.locator('.message', { hasText: 'bed 12' }).count()).toBe(0);
    expect(await edited.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    await shot(omar, 'edited');

    // Nia deletes a message sent to the wrong person: gone on Omar's side, and from the server.
    await send(nia, 'Wrong patient, ignore: K+ 6.1');
    await omar.locator('.message', { hasText: 'Wrong patient, ignore' }).waitFor(WAIT);
    await nia.locator('.message-own', { hasText: 'Wrong patient, ignore' }).getByRole('button', { name: 'Delete' }).click();
    await nia.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect.poll(() => omar.locator('.message', { hasText: 'Wrong patient, ignore' }).count(), WAIT).toBe(0);
    await omar.locator('.message-deleted').waitFor(WAIT);
    await expect.poll(() => nia.locator('.message-deleted').count(), WAIT).toBe(1);
    await shot(omar, 'deleted');

    // A group: Nia (admin) names it, adds Pia (all her devices join), removes Quin; Omar leaves.
    await nia.getByRole('button', { name: 'New conversation' }).click();
    await nia.getByRole('checkbox', { name: /Dr Omar Vale/ }).check();
    await nia.getByRole('checkbox', { name: /Dr Quin Ash/ }).check();
    await nia.getByRole('button', { name: 'Start group conversation' }).click();
    await nia.getByRole('heading', { name: /Dr Omar Vale|Dr Quin Ash/ }).waitFor(WAIT);
    await nia.getByRole('button', { name: 'Members' }).click();
    await nia.getByLabel('Group name').fill('Ward 7 handover');
    await nia.getByRole('button', { name: 'Save name' }).click();
    await nia.getByRole('heading', { name: 'Ward 7 handover' }).waitFor(WAIT);
    await nia.getByLabel('Add colleagues').fill('Pia');
    // The directory shows each colleague's verification state.
    const piaRow = nia.getByRole('checkbox', { name: /Nurse Pia Lund/ });
    await piaRow.check();
    await nia.getByRole('button', { name: 'Add to conversation' }).click();
    await nia.getByRole('list', { name: 'Conversation members' }).getByText('Nurse Pia Lund', { exact: true }).waitFor(WAIT);
    await nia.getByRole('button', { name: 'Remove Dr Quin Ash' }).click();
    await expect.poll(() => nia.getByRole('list', { name: 'Conversation members' }).getByText('Dr Quin Ash', { exact: true }).count(), WAIT).toBe(0);
    await shot(nia, 'members');
    await nia.getByRole('button', { name: 'Done' }).click();
    await send(nia, 'Handover moved to 4pm.');
    await pia.getByRole('link', { name: /Ward 7 handover/ }).click(WAIT);
    await pia.locator('.message', { hasText: 'Handover moved to 4pm.' }).waitFor(WAIT);

    await omar.getByRole('link', { name: /Ward 7 handover/ }).click(WAIT);
    await omar.getByRole('button', { name: 'Members' }).click();
    expect(await omar.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    await omar.getByRole('button', { name: 'Leave conversation' }).click();
    await omar.getByRole('button', { name: 'Leave for good' }).click();
    await expect.poll(() => omar.getByRole('link', { name: /Ward 7 handover/ }).count(), WAIT).toBe(0);
    await nia.getByRole('button', { name: 'Members' }).click();
    await expect.poll(() => nia.getByRole('list', { name: 'Conversation members' }).getByText('Dr Omar Vale', { exact: true }).count(), WAIT).toBe(0);
    await nia.getByRole('button', { name: 'Done' }).click();
    // Pia still receives; what follows is no longer delivered to Omar's device.
    await send(nia, 'Omar has left the group.');
    await pia.locator('.message', { hasText: 'Omar has left the group.' }).waitFor(WAIT);

    expect(problems.flat()).toEqual([]);
    for (const page of pages) await page.context().close();
    // Three browsers and many round trips: on a busy machine this takes more than the default minute.
  }, 180_000);

  it('revoking a device in the profile signs that browser out', async () => {
    await seedColleagues(e2e.server, 'E2E Devices Hospital', [{ email: 'fay@e2e-devices.test', displayName: 'Dr Fay Moss', role: 'clinician' }]);
    const first = await (await e2e.browser.newContext()).newPage();
    const second = await (await e2e.browser.newContext()).newPage();
    const problemsFirst = watchConsole(first);
    const problemsSecond = watchConsole(second);
    const secret = await signInFirstTime(first, e2e.server.origin, 'fay@e2e-devices.test');
    await first.getByRole('button', { name: 'New conversation' }).and(first.locator(':enabled')).waitFor(WAIT);

    // The same person in another browser: a second device.
    await second.goto(e2e.server.origin);
    await second.getByLabel('E-mail').fill('fay@e2e-devices.test');
    await second.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await second.getByRole('button', { name: 'Sign in' }).click();
    await second.getByLabel('Authentication code').fill(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await second.getByRole('button', { name: 'Verify' }).click();
    await second.getByRole('button', { name: 'New conversation' }).and(second.locator(':enabled')).waitFor(WAIT);
    await second.getByRole('link', { name: 'Profile' }).click();
    await expect.poll(() => second.getByTestId('device-fingerprint').count(), WAIT).toBe(2);
    await shot(second, 'two-devices');
    await second.getByRole('button', { name: /^Revoke / }).click();
    await second.getByRole('button', { name: 'Revoke device' }).click();
    await second.getByText('Revoked', { exact: true }).waitFor(WAIT);

    // The revoked browser learns it over its socket and returns to sign-in.
    await first.getByText('Your session has ended. Please sign in again.').waitFor(WAIT);
    // Its one request to learn why is answered 401, which the browser logs; nothing else.
    expect(problemsFirst.filter((p) => !/status of 401/.test(p))).toEqual([]);
    expect(problemsSecond).toEqual([]);
    await first.context().close();
    await second.context().close();
  });
});
