import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seedColleagues, signInFirstTime, watchConsole, send, WAIT, useE2e } from './support.js';

// Two organisations connect through their admin consoles; a clinician of each then finds the other
// (verified, labelled with their organisation) and they message end to end. Each browser checks the
// other's device key against the OTHER organisation's key log before trusting it. Once an admin ends
// the connection, the directory no longer shows the other side.

const e2e = useE2e();

async function page(): Promise<{ page: Page; problems: string[] }> {
  const p = await (await e2e.browser.newContext()).newPage();
  return { page: p, problems: watchConsole(p) };
}

describe('connected organisations in Chromium', () => {
  it('admins connect two organisations; their verified clinicians message each other; ending it hides them again', async () => {
    const alpha = await seedColleagues(e2e.server, 'E2E Alpha Hospital', [
      { email: 'admin@e2e-alpha.test', displayName: 'Alpha Admin', role: 'admin' },
      { email: 'alice@e2e-alpha.test', displayName: 'Dr Alice Ward', role: 'clinician' },
    ]);
    const bravo = await seedColleagues(e2e.server, 'E2E Bravo Clinic', [
      { email: 'admin@e2e-bravo.test', displayName: 'Bravo Admin', role: 'admin' },
      { email: 'bob@e2e-bravo.test', displayName: 'Dr Bob Lane', role: 'clinician' },
    ]);
    // Only verified professionals cross; the admins' verification step is tested elsewhere.
    await e2e.server.deps.db.updateTable('account').set({ verification_level: 'licence_verified' }).where('id', 'in', [alpha.accounts[1]!.id, bravo.accounts[1]!.id]).execute();

    const adminA = await page();
    const adminB = await page();
    await signInFirstTime(adminA.page, e2e.server.origin, 'admin@e2e-alpha.test');
    await signInFirstTime(adminB.page, e2e.server.origin, 'admin@e2e-bravo.test');
    await adminA.page.goto(`${e2e.server.origin}/#/admin/connections`);
    await adminA.page.getByLabel('Organisation id or short name').fill(bravo.org.slug);
    await adminA.page.getByRole('button', { name: 'Propose connection' }).click();
    await adminA.page.getByText('Proposed a connection to E2E Bravo Clinic').waitFor(WAIT);
    await adminB.page.goto(`${e2e.server.origin}/#/admin/connections`);
    await adminB.page.getByRole('button', { name: 'Accept' }).click();
    await adminB.page.getByText('Connected with E2E Alpha Hospital.').waitFor(WAIT);

    const alice = await page();
    const bob = await page();
    await signInFirstTime(alice.page, e2e.server.origin, 'alice@e2e-alpha.test');
    await signInFirstTime(bob.page, e2e.server.origin, 'bob@e2e-bravo.test');
    for (const p of [alice.page, bob.page]) await p.getByRole('button', { name: 'New conversation' }).and(p.locator(':enabled')).waitFor(WAIT);

    await alice.page.getByRole('button', { name: 'New conversation' }).click();
    await alice.page.getByLabel('Search colleagues').fill('Bob');
    const bobRow = alice.page.locator('.directory-person', { hasText: 'Dr Bob Lane' });
    await bobRow.waitFor(WAIT);
    expect(await bobRow.textContent()).toContain('E2E Bravo Clinic');
    await alice.page.getByRole('checkbox', { name: /Dr Bob Lane/ }).check();
    await alice.page.getByRole('button', { name: 'Start conversation' }).click();
    await alice.page.getByRole('heading', { name: 'Dr Bob Lane' }).waitFor(WAIT);
    await send(alice.page, 'Hello from Alpha');

    const fromAlice = bob.page.getByRole('link', { name: /Dr Alice Ward/ });
    await fromAlice.waitFor(WAIT);
    await fromAlice.click();
    await bob.page.locator('.message', { hasText: 'Hello from Alpha' }).waitFor(WAIT);
    await send(bob.page, 'Hello from Bravo');
    await alice.page.locator('.message:not(.message-own)', { hasText: 'Hello from Bravo' }).waitFor(WAIT);

    // Alpha's admin ends it; Alice no longer finds Bob.
    adminA.page.on('dialog', (d) => void d.accept());
    await adminA.page.reload();
    await adminA.page.getByRole('button', { name: 'End connection' }).click();
    await adminA.page.getByText('The connection with E2E Bravo Clinic has ended.').waitFor(WAIT);
    await alice.page.getByRole('link', { name: 'Conversations' }).click();
    await alice.page.getByRole('button', { name: 'New conversation' }).click();
    await alice.page.getByLabel('Search colleagues').fill('Bob');
    await expect.poll(() => alice.page.locator('.directory-person', { hasText: 'Dr Bob Lane' }).count(), WAIT).toBe(0);

    const logged = (await e2e.server.deps.db.selectFrom('audit_entry').select(['log_id', 'leaf']).execute())
      .map((e) => ({ log_id: e.log_id, type: (JSON.parse(e.leaf) as { type: string }).type }))
      .filter((e) => e.type.startsWith('org.connection_'));
    for (const org of [alpha.org.id, bravo.org.id]) {
      expect(logged.filter((e) => e.log_id === org).map((e) => e.type).sort()).toEqual(['org.connection_accepted', 'org.connection_ended', 'org.connection_proposed']);
    }
    for (const p of [adminA, adminB, alice, bob]) expect(p.problems).toEqual([]);
  }, 240_000);
});
