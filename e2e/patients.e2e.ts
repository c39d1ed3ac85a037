import { describe, expect, it } from 'vitest';
import { systemActor } from '@consilium/server';
import { setVerification } from '../packages/server/src/accounts/service.js';
import { PASSWORD, seedColleagues, signInFirstTime, watchConsole, send, WAIT, useE2e } from './support.js';

// A clinician invites a patient into a private conversation: a link for the patient, a code said in
// person. The patient's account reaches that conversation and nothing else.

const e2e = useE2e();



describe('patients in Chromium', () => {
  it('a clinician invites a patient with a link and a code; they talk end to end encrypted', async () => {
    const { org, accounts } = await seedColleagues(e2e.server, 'E2E Patients Hospital', [{ email: 'nora@e2e-patients.test', displayName: 'Dr Nora Vale', role: 'clinician' }]);
    await setVerification(e2e.server.deps, systemActor(org.id), accounts[0]!.id, { level: 'licence_verified', register: 'BIG', licenceNumber: '19000004242', evidence: 'synthetic' });
    const nora = await (await e2e.browser.newContext()).newPage();
    const patient = await (await e2e.browser.newContext()).newPage();
    const problems = [watchConsole(nora), watchConsole(patient)];
    await signInFirstTime(nora, e2e.server.origin, 'nora@e2e-patients.test');
    await nora.getByRole('button', { name: 'Invite a patient' }).and(nora.locator(':enabled')).waitFor(WAIT);

    await nora.getByRole('button', { name: 'Invite a patient' }).click();
    await nora.getByLabel('Shown to you as').fill('Patient, bed 12');
    await nora.getByRole('button', { name: 'Create invitation' }).click();
    const link = (await nora.getByTestId('patient-invite-link').textContent())!.trim();
    const code = (await nora.getByTestId('patient-invite-code').textContent())!.trim();
    expect(code).toMatch(/^\d{6}$/);
    await nora.getByRole('button', { name: 'Done' }).click();

    // The patient opens the link; a wrong code is refused, the right one creates the account.
    await patient.goto(link.replace(/^https?:\/\/[^/]+/, e2e.server.origin));
    await patient.getByText('Dr Nora Vale at E2E Patients Hospital invited you').waitFor(WAIT);
    const fill = async (withCode: string) => {
      await patient.getByLabel('Code from your care team').fill(withCode);
      await patient.getByLabel('E-mail').fill('sam.patient@example.test');
      await patient.getByLabel('Your name').fill('Sam Patient');
      await patient.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await patient.getByLabel('Confirm password').fill(PASSWORD);
      await patient.getByRole('button', { name: 'Create account' }).click();
    };
    await fill(code === '000000' ? '111111' : '000000');
    await patient.getByText('that code is not right').waitFor(WAIT);
    await fill(code);
    await signInFirstTime(patient, e2e.server.origin, 'sam.patient@example.test');

    // The patient sees their one conversation, and no way to reach colleagues, cases or reports.
    const withNora = patient.getByRole('link', { name: /Dr Nora Vale/ });
    await withNora.waitFor(WAIT);
    expect(await patient.getByRole('button', { name: 'New conversation' }).count()).toBe(0);
    expect(await patient.getByRole('link', { name: 'Cases' }).count()).toBe(0);
    expect(await patient.getByRole('link', { name: 'Report phishing' }).count()).toBe(0);
    await withNora.click();
    // Nora's client adds the patient's new device once it has key packages.
    await patient.getByLabel('Message', { exact: true }).waitFor(WAIT);

    await nora.getByRole('link', { name: /Sam Patient/ }).click(WAIT);
    await send(nora, 'Hello Sam, how is the wound today?');
    await patient.locator('.message', { hasText: 'how is the wound today' }).waitFor(WAIT);
    await send(patient, 'Much better, thank you.');
    await nora.locator('.message:not(.message-own)', { hasText: 'Much better' }).waitFor(WAIT);

    // The wrong code was answered 401 (logged by the browser), and a lost race to add the patient's
    // device may log a 409 STALE_EPOCH; nothing else.
    expect(problems.flat().filter((p) => !/status of (401|409)/.test(p))).toEqual([]);
  });
});
