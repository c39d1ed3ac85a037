import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createDepartment, systemActor } from '@consilium/server';
import { setRoster } from '../packages/server/src/cases/oncall.js';
// Verification is an admin's act with evidence; the service function is how a seed sets it.
import { setVerification } from '../packages/server/src/accounts/service.js';
import { validateCaseBundle } from '../packages/web/src/cases/fhir-export.js';
import { findImageMetadata } from '../packages/web/src/attachments/image-metadata.js';
import { FIXTURE_CAMERA, FIXTURE_LATITUDE, latitudeOf, readExif, withGpsExif } from '../packages/web/src/attachments/exif-fixture.js';
import { baseJpeg } from './photo-fixture.js';
import { seedColleagues, signInFirstTime, watchConsole, WAIT, useE2e } from './support.js';

const e2e = useE2e();

const shot = (page: Page, name: string) => (process.env.E2E_SCREENSHOTS ? page.screenshot({ path: `/tmp/cases-${name}.png`, fullPage: true }) : undefined);

async function newPage(problems: string[][]): Promise<Page> {
  const page = await (await e2e.browser.newContext({ acceptDownloads: true })).newPage();
  problems.push(watchConsole(page));
  return page;
}

describe('patient cases in Chromium', () => {
  it('an urgent consult with a photo pages the on-call cardiologist, who sees the photo (without its GPS tags), accepts and answers', async () => {
    const { org, accounts } = await seedColleagues(e2e.server, 'E2E Cases Hospital', [
      { email: 'admin@e2e-cases.test', displayName: 'Ada Admin', role: 'admin' },
      { email: 'alice@e2e-cases.test', displayName: 'Dr Alice Ward', role: 'clinician' },
      { email: 'bob@e2e-cases.test', displayName: 'Dr Bob Lane', role: 'clinician' },
      { email: 'carol@e2e-cases.test', displayName: 'Dr Carol Resident', role: 'clinician' },
      { email: 'uma@e2e-cases.test', displayName: 'Dr Uma Unverified', role: 'clinician' },
    ]);
    await createDepartment(e2e.server.deps, systemActor(org.id), 'Cardiology');
    for (const account of accounts.slice(1, 4)) {
      await setVerification(e2e.server.deps, systemActor(org.id), account.id, {
        level: 'licence_verified',
        register: 'BIG',
        licenceNumber: `19${account.id.slice(0, 8)}`,
        evidence: 'BIG register lookup (synthetic)',
      });
    }
    const problems: string[][] = [];
    const [adminPage, alice, bob] = [await newPage(problems), await newPage(problems), await newPage(problems)] as [Page, Page, Page];

    // The admin puts Dr Bob Lane on call for cardiology, step 1.
    await signInFirstTime(adminPage, e2e.server.origin, 'admin@e2e-cases.test');
    await adminPage.getByRole('link', { name: 'Admin' }).click();
    await adminPage.getByRole('link', { name: 'On call' }).click();
    await adminPage.getByLabel('Department', { exact: true }).selectOption({ label: 'Cardiology' });
    await adminPage.getByText('Nobody is on call for this department.').waitFor(WAIT);
    await adminPage.getByLabel('Person', { exact: true }).selectOption({ label: 'Dr Bob Lane' });
    await adminPage.getByLabel('Step', { exact: true }).fill('1');
    await adminPage.getByRole('button', { name: 'Add to roster' }).click();
    await adminPage.getByRole('button', { name: 'Save roster' }).click();
    await adminPage.getByText('Roster saved. On call now: step 1: Dr Bob Lane.').waitFor(WAIT);
    await shot(adminPage, 'roster');

    // Both clinicians have set up their devices (key packages published) before the consult.
    for (const [page, email] of [
      [alice, 'alice@e2e-cases.test'],
      [bob, 'bob@e2e-cases.test'],
    ] as const) {
      await signInFirstTime(page, e2e.server.origin, email);
      await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);
    }

    // Alice asks cardiology, urgently, and sees who she pages before she sends.
    await alice.getByRole('link', { name: 'Cases' }).click();
    await alice.getByRole('heading', { name: 'Cases' }).waitFor(WAIT);
    await alice.getByRole('button', { name: 'New consult' }).click();
    await alice.getByLabel('Specialty').selectOption({ label: 'Cardiology' });
    await alice.getByRole('list', { name: 'On call now for Cardiology' }).getByText('Step 1: Dr Bob Lane').waitFor(WAIT);
    await alice.getByRole('radio', { name: /^Urgent/ }).check();
    await alice.getByText('must be explicitly accepted').waitFor();
    await alice.getByLabel('Initials').fill('J.D.');
    await alice.getByLabel('Age band').selectOption('60-69');
    await alice.getByLabel('Sex', { exact: true }).selectOption('M');
    await alice.getByLabel('Local identifier (optional)').fill('MRN-0042');
    await alice.getByLabel('Situation').fill('Chest pain for 2 hours, sweating');
    await alice.getByLabel('Background').fill('Type 2 diabetes, smoker');
    await alice.getByLabel('Assessment').fill('ST elevation V2-V4');
    await alice.getByLabel('Recommendation / question').fill('Primary PCI now?');
    // She adds the ward resident (verified) to the case; an unverified colleague cannot be chosen.
    await alice.getByLabel('Add a colleague (optional)').fill('Dr');
    const matches = alice.getByRole('list', { name: 'Matching colleagues' });
    await matches.getByRole('checkbox', { name: /Dr Uma Unverified/ }).and(alice.locator(':disabled')).waitFor(WAIT);
    await matches.getByRole('checkbox', { name: /Dr Carol Resident/ }).check();
    await alice.getByRole('list', { name: 'Colleagues added' }).getByText('Dr Carol Resident').waitFor(WAIT);
    // And a photo of the ECG, straight from a phone camera: it carries EXIF with GPS tags.
    const photo = withGpsExif(await baseJpeg(alice));
    expect(latitudeOf(readExif(photo).gps)).toBeCloseTo(FIXTURE_LATITUDE, 3);
    await alice.getByTestId('attach-input').setInputFiles({ name: 'ecg-bed4.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(photo) });
    await alice.getByTestId('image-editor').waitFor(WAIT);
    await shot(alice, 'new-consult');
    await alice.getByRole('button', { name: 'Page urgent consult' }).click();
    await alice.getByRole('heading', { name: 'Consult to Cardiology' }).waitFor(WAIT);
    await alice.getByText('Paging · step 1 of 1').waitFor(WAIT);
    const consultCard = alice.locator('.case-consult');
    await consultCard.getByText('Primary PCI now?').waitFor(WAIT);
    await alice.locator('.message-own [data-testid=attachment] img').waitFor(WAIT);
    const members = await e2e.server.deps.db.selectFrom('conversation_member').innerJoin('account', 'account.id', 'conversation_member.account_id').select('account.email').where('conversation_member.removed_at', 'is', null).execute();
    expect(members.map((m) => m.email)).toContain('carol@e2e-cases.test');

    // What the server stored for the case is ciphertext in our format: no JPEG, no camera, no GPS.
    const blobs = await e2e.server.deps.db.selectFrom('attachment_link').select(['blob_id', 'conversation_id']).execute();
    expect(blobs).toHaveLength(1);
    const stored = readFileSync(path.join(e2e.server.deps.config.dataDir, 'blobs', blobs[0]!.blob_id.slice(0, 2), blobs[0]!.blob_id));
    expect(stored.subarray(0, 4).toString('latin1')).toBe('CNSA');
    expect(stored.includes(Buffer.from(FIXTURE_CAMERA))).toBe(false);
    expect(stored.includes(Buffer.from([0xff, 0xd8, 0xff]))).toBe(false);

    // Bob is paged: the top bar counts it, "Needs me" lists it.
    const count = bob.getByTestId('cases-awaiting-count');
    await expect.poll(() => count.textContent(), WAIT).toMatch(/^1/);
    await bob.getByRole('link', { name: /^Cases/ }).click();
    await bob.getByRole('tab', { name: 'Needs me', selected: true }).waitFor(WAIT);
    const row = bob.getByRole('link', { name: /Cardiology/ });
    await row.getByText('Needs your response').waitFor(WAIT);
    await row.getByText('Paging step 1 of 1').waitFor();
    await shot(bob, 'needs-me');
    await row.click();

    // The page is impossible to miss, and the SBAR is decrypted on Bob's device.
    const alert = bob.getByRole('alert').filter({ hasText: 'you are being paged by Dr Alice Ward' });
    await alert.waitFor(WAIT);
    const sbar = bob.locator('.case-consult');
    await sbar.getByText('Chest pain for 2 hours, sweating').waitFor(WAIT);
    expect(await sbar.getByText('ST elevation V2-V4').count()).toBe(1);
    expect(await sbar.getByText('MRN-0042').count()).toBe(1);
    // The photo is decrypted on Bob's device and shown in the app (a blob: URL, never a file). The
    // page's CSP keeps scripts from reading blob: URLs, so the bytes are checked through the one way
    // out, the audited Export: a JPEG without EXIF or GPS.
    const figure = bob.locator('.message:not(.message-own) [data-testid=attachment]');
    const img = figure.locator('img');
    await img.waitFor(WAIT);
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    expect(await img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight])).toEqual([64, 32]);
    const [saved] = await Promise.all([bob.waitForEvent('download', WAIT), figure.getByRole('button', { name: 'Export' }).click()]);
    expect(saved.suggestedFilename()).toBe('ecg-bed4.jpg');
    const shown = new Uint8Array(readFileSync((await saved.path())!));
    expect([shown[0], shown[1]]).toEqual([0xff, 0xd8]);
    expect(findImageMetadata(shown)).toEqual([]);
    expect(readExif(shown).gps).toEqual({});
    expect(Buffer.from(shown).includes(Buffer.from(FIXTURE_CAMERA))).toBe(false);
    await shot(bob, 'paged');
    // Bob is a member, not an admin, of the case: he sees how long messages are kept, he cannot change it.
    await bob.getByText('Disappearing messages: Off').waitFor(WAIT);
    expect(await bob.getByLabel('Disappearing messages').count()).toBe(0);
    await alert.getByRole('button', { name: 'Accept' }).click();
    await bob.locator('.case-paging').getByText('Accepted by Dr Bob Lane').waitFor(WAIT);
    expect(await bob.getByText('you are being paged').count()).toBe(0);

    // Bob answers in the encrypted thread and marks the consult answered.
    await bob.getByLabel('Message', { exact: true }).fill('Activating the cath lab: bring him to room 2 now.');
    await bob.getByRole('button', { name: 'Send', exact: true }).click();
    await bob.locator('.message-own', { hasText: 'Activating the cath lab' }).locator('.message-status', { hasText: 'Sent' }).waitFor(WAIT);
    await bob.getByRole('button', { name: 'Mark answered' }).click();
    await bob.getByText('Marked as answered.').waitFor(WAIT);

    // Alice sees who accepted and the answer, pushed to her.
    await alice.locator('.case-paging').getByText('by Dr Bob Lane').waitFor(WAIT);
    await alice.locator('.message:not(.message-own)', { hasText: 'Activating the cath lab: bring him to room 2 now.' }).waitFor(WAIT);
    await alice.locator('.case-badges').getByText('Answered').waitFor(WAIT);
    // The header is shown as a labelled card, not as its JSON.
    expect(await alice.locator('.thread-messages').getByText('"case.header"').count()).toBe(0);
    await shot(alice, 'answered');

    // Alice closes the case with an outcome and exports it as a FHIR bundle (audited first).
    await alice.getByRole('button', { name: 'Close case' }).click();
    await alice.getByLabel('Outcome summary').fill('Primary PCI to LAD, transferred to CCU.');
    await alice.getByRole('button', { name: 'Send outcome and close' }).click();
    await alice.locator('.case-badges').getByText('Closed').waitFor(WAIT);
    await alice.locator('.case-outcome').getByText('Primary PCI to LAD, transferred to CCU.').waitFor(WAIT);
    const [download] = await Promise.all([alice.waitForEvent('download', WAIT), alice.getByRole('button', { name: 'Export to record (FHIR)' }).click()]);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as unknown;
    const checked = validateCaseBundle(bundle);
    expect(checked.ok).toBe(true);
    expect(JSON.stringify(bundle)).toContain('Situation: Chest pain for 2 hours, sweating');
    expect(JSON.stringify(bundle)).toContain('Activating the cath lab');
    // The photo is in the record as a DocumentReference (its bytes stay in the vault).
    const resources = (bundle as { entry: { resource: { resourceType: string; content?: { attachment: { title?: string } }[] } }[] }).entry.map((e) => e.resource);
    expect(resources.filter((r) => r.resourceType === 'DocumentReference').map((r) => r.content?.[0]?.attachment.title)).toEqual(['ecg-bed4.jpg']);
    await alice.getByText(/^Exported \d+ FHIR resources/).waitFor(WAIT);
    await bob.locator('.case-outcome').getByText('Primary PCI to LAD, transferred to CCU.').waitFor(WAIT);

    // Alice, who opened the case, sets its messages (and photos) to disappear after a week.
    await alice.getByLabel('Disappearing messages').selectOption({ label: '1 week' });
    await expect
      .poll(async () => (await e2e.server.deps.db.selectFrom('conversation').select('expiry_seconds').where('id', '=', blobs[0]!.conversation_id).executeTakeFirstOrThrow()).expiry_seconds, WAIT)
      .toBe(7 * 86_400);

    // The case lives on the Cases page, not in the conversation list.
    await bob.getByRole('link', { name: 'Conversations' }).click();
    await bob.getByText('No conversations yet').waitFor(WAIT);

    expect(problems.flat()).toEqual([]);
    for (const page of [adminPage, alice, bob]) await page.context().close();
  }, 240_000);

  it('a consult whose group setup fails on the device is not opened twice: Retry finishes the setup, sending the consult once', async () => {
    const { org, accounts } = await seedColleagues(e2e.server, 'E2E Setup Hospital', [
      { email: 'dana@e2e-setup.test', displayName: 'Dr Dana Ward', role: 'clinician' },
      { email: 'eli@e2e-setup.test', displayName: 'Dr Eli Neuro', role: 'clinician' },
    ]);
    const neurology = await createDepartment(e2e.server.deps, systemActor(org.id), 'Neurology');
    for (const account of accounts) {
      await setVerification(e2e.server.deps, systemActor(org.id), account.id, { level: 'licence_verified', register: 'BIG', licenceNumber: `19${account.id.slice(0, 8)}`, evidence: 'BIG register lookup (synthetic)' });
    }
    await setRoster(e2e.server.deps, systemActor(org.id), org.id, neurology.id, { entries: [{ step: 1, accountId: accounts[1]!.id }] });
    const problems: string[][] = [];
    const [dana, eli] = [await newPage(problems), await newPage(problems)] as [Page, Page];
    for (const [page, email] of [
      [dana, 'dana@e2e-setup.test'],
      [eli, 'eli@e2e-setup.test'],
    ] as const) {
      await signInFirstTime(page, e2e.server.origin, email);
      await page.getByRole('button', { name: 'New conversation' }).and(page.locator(':enabled')).waitFor(WAIT);
    }
    const caseCount = async () => (await e2e.server.deps.db.selectFrom('patient_case').select('id').where('organisation_id', '=', org.id).execute()).length;

    // The network drops while the device claims the colleagues' key packages (after the server recorded the case).
    await dana.route('**/api/v1/key-packages/claim', (route) => route.abort('connectionreset'));
    await dana.getByRole('link', { name: 'Cases' }).click();
    await dana.getByRole('button', { name: 'New consult' }).click();
    await dana.getByLabel('Specialty').selectOption({ label: 'Neurology' });
    await dana.getByLabel('Initials').fill('A.B.');
    await dana.getByLabel('Age band').selectOption('70-79');
    await dana.getByLabel('Sex', { exact: true }).selectOption('F');
    await dana.getByLabel('Situation').fill('Sudden aphasia for 40 minutes');
    await dana.getByLabel('Recommendation / question').fill('Thrombolysis?');
    await dana.getByRole('button', { name: 'Send consult' }).click();
    await dana.getByText('The case was opened, but setting it up on this device did not finish').waitFor(WAIT);
    // No second case: the submit button is off; the ways on are Retry and the case already opened.
    expect(await dana.getByRole('button', { name: 'Send consult' }).isDisabled()).toBe(true);
    expect(await caseCount()).toBe(1);
    // A Retry while the network is still down fails the same way and opens nothing new.
    const claims: string[] = [];
    dana.on('requestfailed', (r) => r.url().includes('key-packages/claim') && claims.push(r.url()));
    await dana.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => claims.length, WAIT).toBeGreaterThan(0);
    await dana.getByRole('button', { name: 'Retry' }).and(dana.locator(':enabled')).waitFor(WAIT);
    await dana.getByText('The case was opened, but setting it up on this device did not finish').waitFor(WAIT);
    expect(await caseCount()).toBe(1);

    // The claim goes through again; now every answer to the consult message is lost on its way back,
    // though the server stores it: the device cannot know it was sent.
    await dana.unroute('**/api/v1/key-packages/claim');
    let lostAnswers = 0;
    const consultRoute = '**/api/v1/conversations/*/messages';
    await dana.route(consultRoute, async (route) => {
      const body = route.request().method() === 'POST' ? (route.request().postDataJSON() as { kind?: string }) : null;
      if (body?.kind !== 'application') return route.continue();
      await route.fetch();
      lostAnswers++;
      await route.abort('connectionreset');
    });
    await dana.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => lostAnswers, WAIT).toBeGreaterThan(0);
    await dana.getByRole('button', { name: 'Retry' }).and(dana.locator(':enabled')).waitFor({ timeout: 60_000 });
    await dana.getByText('The case was opened, but setting it up on this device did not finish').waitFor(WAIT);
    await dana.unroute(consultRoute);

    // From the case itself: it says the consult is not sent, and Retry sends it, once.
    await dana.getByRole('button', { name: 'Open the case' }).click();
    await dana.getByRole('heading', { name: 'Consult to Neurology' }).waitFor(WAIT);
    const notSent = dana.getByRole('alert').filter({ hasText: 'The consult has not been sent.' });
    await notSent.waitFor(WAIT);
    await notSent.getByRole('button', { name: 'Retry' }).click();
    await notSent.waitFor({ state: 'detached', ...WAIT });
    await dana.locator('.message-own').locator('.message-status', { hasText: 'Sent' }).waitFor(WAIT);
    expect(await caseCount()).toBe(1);
    const [{ id: caseId }] = await e2e.server.deps.db.selectFrom('patient_case').select('id').where('organisation_id', '=', org.id).execute() as [{ id: string }];
    const applicationMessages = await e2e.server.deps.db.selectFrom('mls_message').select('seq').where('conversation_id', '=', caseId).where('kind', '=', 'application').execute();
    expect(lostAnswers).toBeGreaterThan(1);
    expect(applicationMessages).toHaveLength(1);

    // The on-call neurologist (a routine consult reaches him without paging) reads it on his device.
    await eli.getByRole('link', { name: /^Cases/ }).click();
    await eli.getByRole('tab', { name: 'Open' }).click();
    await eli.getByRole('link', { name: /Neurology/ }).click();
    const sbar = eli.locator('.case-consult');
    await sbar.getByText('Sudden aphasia for 40 minutes').waitFor(WAIT);
    expect(await sbar.getByText('Thrombolysis?').count()).toBe(1);
    // The aborted requests are the console errors expected here.
    expect(problems.flat().filter((p) => !p.includes('key-packages/claim') && !p.includes('/messages') && !p.includes('ERR_CONNECTION_RESET') && !p.includes('Failed to fetch'))).toEqual([]);
    for (const page of [dana, eli]) await page.context().close();
  }, 180_000);
});
