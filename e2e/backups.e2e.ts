import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackup, generateAgeIdentity } from '@consilium/server';
import { seedPerson, signInFirstTime, watchConsole, WAIT, useE2e } from './support.js';

const keys = mkdtempSync(path.join(tmpdir(), 'consilium-e2e-backup-keys-'));

const e2e = useE2e(
  async () => {
    const ops = await generateAgeIdentity('x25519');
    const escrow = await generateAgeIdentity('x25519');
    const identityFile = path.join(keys, 'drill.key');
    writeFileSync(identityFile, `${ops.identity}\n`, { mode: 0o600 });
    // The server drills by itself every second here (as the demo does monthly), with a drill identity.
    return { backupRecipients: [ops.recipient, escrow.recipient], backupDrillSchedule: '* * * * * *', backupDrillIdentityFile: identityFile };
  },
  () => rmSync(keys, { recursive: true, force: true }),
);

describe('Backups page in Chromium', () => {
  it("shows the last backup, the server's own restore drill with each check, and 3-2-1-1-0 in red where it falls short", async () => {
    const email = 'admin@e2e-backups.test';
    await seedPerson(e2e.server, 'E2E Backup Hospital', email, 'admin');
    const snapshot = await createBackup(e2e.server.deps);
    // Wait for a scheduled drill of that snapshot to have passed.
    await expect
      .poll(async () => (await e2e.server.deps.db.selectFrom('backup_run').select('id').where('kind', '=', 'drill').where('outcome', '=', 'success').where('seq', '=', snapshot.seq).executeTakeFirst()) !== undefined, WAIT)
      .toBe(true);

    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signInFirstTime(page, e2e.server.origin, email);
    await page.goto(`${e2e.server.origin}/#/admin/backups`);
    await page.getByRole('heading', { name: '3-2-1-1-0 at a glance' }).waitFor(WAIT);

    const lastBackup = page.getByRole('region', { name: 'Last backup' });
    await expect.poll(() => lastBackup.innerText()).toContain(`Snapshot ${snapshot.seq}`);
    // The newest finished drill's report, each check with its result.
    await page.getByRole('heading', { name: 'Last restore drill report: passed' }).waitFor(WAIT);
    const checks = page.getByRole('list', { name: 'Restore checks' });
    expect(await checks.getByRole('listitem').filter({ hasText: 'row counts' }).innerText()).toMatch(/^ok/);
    expect(await checks.getByRole('listitem').filter({ hasText: 'failed' }).count()).toBe(0);
    await expect.poll(() => page.getByText('restore drills: * * * * * *').count()).toBe(1);
    const copies = page.getByRole('listitem').filter({ hasText: '3 copies' });
    expect(await copies.innerText()).toContain('short');
    expect(problems).toEqual([]);
    await context.close();
  });
});
