import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITE_TTL_HOURS } from '@consilium/protocol';
import { PASSWORD, seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';

let server: TestServer;
let org: SeededOrg;
let admin: TestClient;
let adminSecret: string;
let cardiology: string;

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Admin Hospital');
  const s = await signIn(server, org.admin.email);
  admin = s.client;
  adminSecret = s.totpSecret;
  cardiology = (await admin.post('/api/v1/org/departments', { name: 'Cardiology' })).body.id;
});
afterAll(() => server?.stop());

/** A new admin session (after the clock has moved past the old one's idle limit). */
async function refreshAdmin(): Promise<void> {
  admin = (await signIn(server, org.admin.email, adminSecret)).client;
}

async function invite(email: string, role = 'clinician', departmentId: string | null = null) {
  const r = await admin.post('/api/v1/org/invites', { email, role, departmentId });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { invite: { id: string; email: string; role: string; departmentId: string | null; invitedBy: string; expiresAt: string; acceptedAt: string | null; revokedAt: string | null }; inviteUrl: string; token: string };
}

const accept = (token: string, body: unknown = { displayName: 'Dr New Member', password: PASSWORD }) => server.client().post(`/api/v1/invites/${token}/accept`, body);
const member = async (id: string) => (await admin.get(`/api/v1/org/members/${id}`)).body;
const memberByEmail = async (email: string) => (await admin.get('/api/v1/org/members')).body.members.find((m: { email: string }) => m.email === email);

describe('invites', () => {
  it('create -> preview -> accept: the new member signs in with the role and department of the invite', async () => {
    const now = server.clock.now();
    const created = await invite('Dr.Quinn@Admin-Hospital.test', 'nurse', cardiology);
    expect(created.invite).toMatchObject({
      email: 'dr.quinn@admin-hospital.test',
      role: 'nurse',
      departmentId: cardiology,
      invitedBy: org.admin.id,
      acceptedAt: null,
      revokedAt: null,
    });
    expect(Date.parse(created.invite.expiresAt) - now.getTime()).toBe(INVITE_TTL_HOURS * 3600 * 1000);
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The token rides in the fragment, which browsers never send to a server.
    expect(created.inviteUrl).toBe(`http://localhost:8080/#/invite/${created.token}`);

    const preview = await server.client().get(`/api/v1/invites/${created.token}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({ organisationName: 'Admin Hospital', email: 'dr.quinn@admin-hospital.test', role: 'nurse', expiresAt: created.invite.expiresAt });

    const accepted = await accept(created.token, { displayName: '  Quinn Nurse  ', password: PASSWORD });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ ok: true });
    // Accepting does not sign in: the invitee signs in with the new password.
    expect(accepted.headers.getSetCookie()).toEqual([]);

    const { client } = await signIn(server, 'dr.quinn@admin-hospital.test');
    const me = await client.get('/api/v1/me');
    expect(me.body.account).toMatchObject({ email: 'dr.quinn@admin-hospital.test', displayName: 'Quinn Nurse', role: 'nurse', departmentId: cardiology, verificationLevel: 'unverified' });
    expect(me.body.organisation.id).toBe(org.id);

    const listed = (await admin.get('/api/v1/org/invites')).body.invites.find((i: { id: string }) => i.id === created.invite.id);
    expect(listed.acceptedAt).toBe(server.clock.now().toISOString());
    const m = await memberByEmail('dr.quinn@admin-hospital.test');
    expect(m).toMatchObject({ role: 'nurse', departmentId: cardiology, status: 'active', mfaEnrolled: true });
  });

  it('is one-time: a second accept is 410 INVITE_INVALID, and so is the preview', async () => {
    const created = await invite('once@admin-hospital.test');
    expect((await accept(created.token)).status).toBe(200);
    expectError(await accept(created.token, { displayName: 'Someone Else', password: 'another long password' }), 'INVITE_INVALID');
    expectError(await server.client().get(`/api/v1/invites/${created.token}`), 'INVITE_INVALID');
    expect((await memberByEmail('once@admin-hospital.test')).displayName).toBe('Dr New Member');
  });

  it('a revoked invite is refused; revoking twice, or an accepted invite, is 404', async () => {
    const created = await invite('revoked@admin-hospital.test');
    expect((await admin.delete(`/api/v1/org/invites/${created.invite.id}`)).status).toBe(200);
    expectError(await server.client().get(`/api/v1/invites/${created.token}`), 'INVITE_INVALID');
    expectError(await accept(created.token), 'INVITE_INVALID');
    expectError(await admin.delete(`/api/v1/org/invites/${created.invite.id}`), 'NOT_FOUND');
    const listed = (await admin.get('/api/v1/org/invites')).body.invites.find((i: { id: string }) => i.id === created.invite.id);
    expect(listed.revokedAt).toBe(server.clock.now().toISOString());
    expect(await memberByEmail('revoked@admin-hospital.test')).toBeUndefined();

    const used = await invite('used@admin-hospital.test');
    expect((await accept(used.token)).status).toBe(200);
    expectError(await admin.delete(`/api/v1/org/invites/${used.invite.id}`), 'NOT_FOUND');
  });

  it('an invite for an e-mail that has an account is 409 EMAIL_TAKEN, whatever its case', async () => {
    expectError(await admin.post('/api/v1/org/invites', { email: org.clinician.email, role: 'clinician' }), 'EMAIL_TAKEN');
    expectError(await admin.post('/api/v1/org/invites', { email: org.clinician.email.toUpperCase(), role: 'admin' }), 'EMAIL_TAKEN');
  });

  it('of two open invites for one e-mail, the second accept is refused and leaves that invite unused', async () => {
    const first = await invite('twice@admin-hospital.test');
    const second = await invite('twice@admin-hospital.test', 'admin');
    expect((await accept(first.token)).status).toBe(200);
    expectError(await accept(second.token, { displayName: 'Twice Again', password: 'another long password' }), 'EMAIL_TAKEN');
    const listed = (await admin.get('/api/v1/org/invites')).body.invites.find((i: { id: string }) => i.id === second.invite.id);
    expect(listed.acceptedAt).toBeNull();
    expect((await memberByEmail('twice@admin-hospital.test')).role).toBe('clinician');
  });

  it('refuses a password under 12 characters (or over 256) with 400, and the invite stays usable', async () => {
    const created = await invite('weak@admin-hospital.test');
    for (const password of ['short', '12345678901', 'x'.repeat(257)]) {
      const r = await accept(created.token, { displayName: 'Weak', password });
      expect(r.status).toBe(400);
      expectError(r, 'VALIDATION_FAILED');
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain('body.password');
    }
    expectError(await accept(created.token, { displayName: '   ', password: PASSWORD }), 'VALIDATION_FAILED');
    expect(await memberByEmail('weak@admin-hospital.test')).toBeUndefined();
    expect((await accept(created.token, { displayName: 'Strong', password: '123456789012' })).status).toBe(200);
  });

  it(`expires after ${INVITE_TTL_HOURS} hours`, async () => {
    const early = await invite('early@admin-hospital.test');
    const late = await invite('late@admin-hospital.test');
    server.clock.advance(INVITE_TTL_HOURS * 3600 - 1);
    expect((await server.client().get(`/api/v1/invites/${late.token}`)).status).toBe(200);
    expect((await accept(early.token)).status).toBe(200);
    server.clock.advance(1);
    expectError(await server.client().get(`/api/v1/invites/${late.token}`), 'INVITE_INVALID');
    expectError(await accept(late.token), 'INVITE_INVALID');
    await refreshAdmin();
    expect(await memberByEmail('late@admin-hospital.test')).toBeUndefined();
    expect(await memberByEmail('early@admin-hospital.test')).toBeTruthy();
  });
});

describe('verification of professionals', () => {
  const path = () => `/api/v1/org/members/${org.clinician.id}/verification`;

  it('records identity verification with its evidence, who and when', async () => {
    const r = await admin.put(path(), { level: 'identity_verified', evidence: 'passport seen in person' });
    expect(r.status).toBe(200);
    expect(r.body.verification).toEqual({
      level: 'identity_verified',
      register: null,
      licenceNumber: null,
      evidence: 'passport seen in person',
      verifiedBy: org.admin.id,
      verifiedAt: server.clock.now().toISOString(),
    });
    expect((await member(org.clinician.id)).verification.level).toBe('identity_verified');
  });

  it('refuses a verification without evidence, and licence_verified without register and number', async () => {
    const before = (await member(org.clinician.id)).verification;
    const noEvidence = await admin.put(path(), { level: 'identity_verified' });
    expectError(noEvidence, 'VALIDATION_FAILED');
    expect(noEvidence.body.error.issues.map((i: { path: string }) => i.path)).toContain('body.evidence');
    expectError(await admin.put(path(), { level: 'identity_verified', evidence: '   ' }), 'VALIDATION_FAILED');
    expectError(await admin.put(path(), { level: 'licence_verified', evidence: 'register lookup' }), 'VALIDATION_FAILED');
    expectError(await admin.put(path(), { level: 'licence_verified', register: 'BIG', evidence: 'register lookup' }), 'VALIDATION_FAILED');
    expectError(await admin.put(path(), { level: 'licence_verified', licenceNumber: '19000000101', evidence: 'register lookup' }), 'VALIDATION_FAILED');
    expectError(await admin.put(path(), { level: 'licence_verified', register: 'NOPE', licenceNumber: '1', evidence: 'x' }), 'VALIDATION_FAILED');
    expectError(await admin.put(path(), { level: 'superhero', evidence: 'x' }), 'VALIDATION_FAILED');
    expect((await member(org.clinician.id)).verification).toEqual(before);
  });

  it('records a licence verification: register, number, evidence, who, when', async () => {
    server.clock.advance(60);
    const r = await admin.put(path(), { level: 'licence_verified', register: 'BIG', licenceNumber: ' 19000000101 ', evidence: 'BIG register lookup 2026-11-23' });
    expect(r.status).toBe(200);
    expect(r.body.verification).toEqual({
      level: 'licence_verified',
      register: 'BIG',
      licenceNumber: '19000000101',
      evidence: 'BIG register lookup 2026-11-23',
      verifiedBy: org.admin.id,
      verifiedAt: server.clock.now().toISOString(),
    });
  });

  it('keeps no licence details on a level below licence_verified, even when sent', async () => {
    const r = await admin.put(path(), { level: 'identity_verified', register: 'GMC', licenceNumber: '7777777', evidence: 'ID card seen' });
    expect(r.status).toBe(200);
    expect(r.body.verification).toMatchObject({ level: 'identity_verified', register: null, licenceNumber: null, evidence: 'ID card seen' });
    const back = await admin.put(path(), { level: 'licence_verified', register: 'BIG', licenceNumber: '19000000101', evidence: 'BIG register lookup 2026-11-23' });
    expect(back.body.verification).toMatchObject({ register: 'BIG', licenceNumber: '19000000101' });
  });

  it('lowering the level clears the licence details; unverified clears everything', async () => {
    const down = await admin.put(path(), { level: 'identity_verified', evidence: 'licence lapsed, identity still known' });
    expect(down.body.verification).toMatchObject({ level: 'identity_verified', register: null, licenceNumber: null, evidence: 'licence lapsed, identity still known', verifiedBy: org.admin.id });
    const none = await admin.put(path(), { level: 'unverified' });
    expect(none.body.verification).toEqual({ level: 'unverified', register: null, licenceNumber: null, evidence: null, verifiedBy: null, verifiedAt: null });
  });
});

describe('roles and the last admin', () => {
  it('changes a role; the change applies to the member’s live session at once', async () => {
    const { client: nurse } = await signIn(server, (await invitedMember('role.change@admin-hospital.test')).email);
    const id = (await memberByEmail('role.change@admin-hospital.test')).id;
    expectError(await nurse.get('/api/v1/org/members'), 'FORBIDDEN');
    const promoted = await admin.patch(`/api/v1/org/members/${id}`, { role: 'admin' });
    expect(promoted.body.role).toBe('admin');
    expect((await nurse.get('/api/v1/org/members')).status).toBe(200);
    expect((await admin.patch(`/api/v1/org/members/${id}`, { role: 'security_officer' })).body.role).toBe('security_officer');
    expectError(await nurse.get('/api/v1/org/members'), 'FORBIDDEN');
    expect((await nurse.get('/api/v1/me')).body.account.role).toBe('security_officer');
  });

  it('will not demote or disable the last active admin (409 LAST_ADMIN)', async () => {
    expectError(await admin.patch(`/api/v1/org/members/${org.admin.id}`, { role: 'clinician' }), 'LAST_ADMIN');
    expectError(await admin.patch(`/api/v1/org/members/${org.admin.id}`, { status: 'disabled' }), 'LAST_ADMIN');
    expect((await member(org.admin.id)).role).toBe('admin');

    // With a second admin, one may step down; then the other is the last one.
    const second = await invitedMember('second.admin@admin-hospital.test', 'admin');
    const secondId = (await memberByEmail(second.email)).id;
    expectError(await admin.patch(`/api/v1/org/members/${org.admin.id}`, { status: 'disabled' }), 'FORBIDDEN'); // not oneself
    expect((await admin.patch(`/api/v1/org/members/${secondId}`, { role: 'clinician' })).status).toBe(200);
    expectError(await admin.patch(`/api/v1/org/members/${org.admin.id}`, { role: 'nurse' }), 'LAST_ADMIN');
    // A disabled admin does not count as an admin.
    expect((await admin.patch(`/api/v1/org/members/${secondId}`, { role: 'admin', status: 'disabled' })).status).toBe(200);
    expectError(await admin.patch(`/api/v1/org/members/${org.admin.id}`, { role: 'nurse' }), 'LAST_ADMIN');
  });

  it('two admins demoting each other at the same moment still leave one admin', async () => {
    // The count-then-update must be atomic; run the race several times, since one run may not
    // interleave. Each run: a fresh organisation with two admins, each demoting the other.
    const outcomes: string[] = [];
    for (let run = 0; run < 6; run++) {
      const o = await seedOrg(server, `Race Hospital ${run}`, { requireMfa: false });
      const x = await signIn(server, o.admin.email);
      expect((await x.client.patch(`/api/v1/org/members/${o.clinician.id}`, { role: 'admin' })).status).toBe(200);
      const y = await signIn(server, o.clinician.email);
      const [rx, ry] = await Promise.all([
        x.client.patch(`/api/v1/org/members/${o.clinician.id}`, { role: 'clinician' }),
        y.client.patch(`/api/v1/org/members/${o.admin.id}`, { role: 'clinician' }),
      ]);
      const admins = (await server.deps.db.selectFrom('account').select('id').where('organisation_id', '=', o.id).where('role', '=', 'admin').where('status', '=', 'active').execute()).length;
      outcomes.push(`run ${run}: ${rx.status}/${ry.status} -> ${admins} admin(s)`);
      expect(admins, outcomes.join('; ')).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('disabling, MFA reset and session revocation', () => {
  it('disabling a member ends all their sessions; they cannot sign in until re-enabled', async () => {
    const email = 'to.disable@admin-hospital.test';
    const first = await signIn(server, (await invitedMember(email)).email);
    const second = await signIn(server, email, first.totpSecret);
    const id = (await memberByEmail(email)).id;
    expect((await first.client.get('/api/v1/me')).status).toBe(200);

    const r = await admin.patch(`/api/v1/org/members/${id}`, { status: 'disabled' });
    expect(r.body.status).toBe('disabled');
    expectError(await server.client().post('/api/v1/auth/sign-in', { email, password: PASSWORD }), 'FORBIDDEN');

    // Re-enabled before the old sessions were used again: they stay ended (not merely suspended).
    expect((await admin.patch(`/api/v1/org/members/${id}`, { status: 'active' })).body.status).toBe('active');
    for (const c of [first.client, second.client]) expectError(await c.get('/api/v1/me'), 'UNAUTHENTICATED');
    expect((await signIn(server, email, first.totpSecret)).client).toBeTruthy();

    // Disabled with live sessions that are used while disabled: refused at once.
    const third = await signIn(server, email, first.totpSecret);
    expect((await admin.patch(`/api/v1/org/members/${id}`, { status: 'disabled' })).status).toBe(200);
    const after = await third.client.get('/api/v1/me');
    expect(after.status).toBe(401);
    expect(['UNAUTHENTICATED', 'SESSION_EXPIRED']).toContain(after.body.error.code);
    expect((await admin.patch(`/api/v1/org/members/${id}`, { status: 'active' })).status).toBe(200);
  });

  it("revoking a member's sessions signs them out everywhere", async () => {
    const email = 'revoke.all@admin-hospital.test';
    const s = await signIn(server, (await invitedMember(email)).email);
    const id = (await memberByEmail(email)).id;
    expect((await admin.delete(`/api/v1/org/members/${id}/sessions`)).status).toBe(200);
    expectError(await s.client.get('/api/v1/me'), 'UNAUTHENTICATED');
    expect((await signIn(server, email, s.totpSecret)).client).toBeTruthy();
  });

  it("resetting a member's MFA removes every factor and session; the next sign-in must set one up", async () => {
    const email = 'lost.phone@admin-hospital.test';
    const s = await signIn(server, (await invitedMember(email)).email);
    const id = (await memberByEmail(email)).id;
    expect((await member(id)).mfaEnrolled).toBe(true);
    expect((await admin.post(`/api/v1/org/members/${id}/reset-mfa`)).status).toBe(200);
    expectError(await s.client.get('/api/v1/me'), 'UNAUTHENTICATED');
    expect((await member(id)).mfaEnrolled).toBe(false);
    const again = await server.client().post('/api/v1/auth/sign-in', { email, password: PASSWORD });
    expect(again.body).toEqual({ stage: 'mfa_setup_required', mfaMethods: [] });
  });
});

describe('organisation settings and departments', () => {
  it('changes settings; members see the new idle limit', async () => {
    const r = await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 30, requireMfa: false });
    expect(r.status).toBe(200);
    expect(r.body.settings).toEqual({ requireMfa: false, idleTimeoutMinutes: 30 });
    expect((await admin.get('/api/v1/org')).body.settings).toEqual({ requireMfa: false, idleTimeoutMinutes: 30 });
    expect((await admin.get('/api/v1/me')).body.idleTimeoutSeconds).toBe(30 * 60);
    const partial = await admin.patch('/api/v1/org/settings', { requireMfa: true });
    expect(partial.body.settings).toEqual({ requireMfa: true, idleTimeoutMinutes: 30 });
    expect((await admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 15 })).status).toBe(200);
  });

  it('creates a department; a duplicate name is 409 CONFLICT', async () => {
    const r = await admin.post('/api/v1/org/departments', { name: 'Emergency Department' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id: expect.any(String), name: 'Emergency Department', createdAt: server.clock.now().toISOString() });
    expectError(await admin.post('/api/v1/org/departments', { name: 'Emergency Department' }), 'CONFLICT');
    expectError(await admin.post('/api/v1/org/departments', { name: '  Emergency Department ' }), 'CONFLICT');
    expectError(await admin.post('/api/v1/org/departments', { name: '' }), 'VALIDATION_FAILED');
    const names = (await admin.get('/api/v1/org/departments')).body.departments.map((d: { name: string }) => d.name);
    expect(names.filter((n: string) => n === 'Emergency Department')).toHaveLength(1);
  });
});

/** Invites and accepts an account with PASSWORD; returns its e-mail. */
async function invitedMember(email: string, role = 'clinician'): Promise<{ email: string }> {
  const created = await invite(email, role);
  const r = await accept(created.token);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { email };
}
