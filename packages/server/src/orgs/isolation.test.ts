import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError, randomId } from '../test-support/http.js';

// Two organisations on one server. Every admin query is scoped to the caller's organisation: the
// other one's ids read as absent (404, exactly like an id that names nothing), and nothing of it
// changes.

let server: TestServer;
let a: SeededOrg;
let b: SeededOrg;
let adminA: TestClient;
let adminB: TestClient;
let clinicianB: TestClient;
let deptA: string;
let deptB: string;
let inviteB: { id: string; token: string };

beforeAll(async () => {
  server = await startTestServer();
  a = await seedOrg(server, 'Alpha Hospital');
  b = await seedOrg(server, 'Bravo Clinic');
  adminA = (await signIn(server, a.admin.email)).client;
  adminB = (await signIn(server, b.admin.email)).client;
  clinicianB = (await signIn(server, b.clinician.email)).client;
  deptA = (await adminA.post('/api/v1/org/departments', { name: 'Cardiology' })).body.id;
  deptB = (await adminB.post('/api/v1/org/departments', { name: 'Cardiology' })).body.id;
  expect(deptA).toBeTruthy();
  expect(deptB).toBeTruthy();
  const created = await adminB.post('/api/v1/org/invites', { email: 'new.nurse@bravo.test', role: 'nurse', departmentId: deptB });
  expect(created.status).toBe(200);
  inviteB = { id: created.body.invite.id, token: created.body.token };
});
afterAll(() => server?.stop());

/** B's clinician as B's admin sees it. */
const memberB = async () => {
  const r = await adminB.get(`/api/v1/org/members/${b.clinician.id}`);
  expect(r.status).toBe(200);
  return r.body;
};

describe('members of another organisation', () => {
  it('member lists hold only the own organisation', async () => {
    const listA = (await adminA.get('/api/v1/org/members')).body.members.map((m: { id: string }) => m.id);
    const listB = (await adminB.get('/api/v1/org/members')).body.members.map((m: { id: string }) => m.id);
    expect(listA.sort()).toEqual([a.admin.id, a.clinician.id].sort());
    expect(listB.sort()).toEqual([b.admin.id, b.clinician.id].sort());
  });

  it("A's admin cannot read B's members: 404, the same answer as for an id that does not exist", async () => {
    const none = await adminA.get(`/api/v1/org/members/${randomId()}`);
    expectError(none, 'NOT_FOUND');
    for (const id of [b.clinician.id, b.admin.id]) {
      const r = await adminA.get(`/api/v1/org/members/${id}`);
      expectError(r, 'NOT_FOUND');
      expect(r.body).toEqual(none.body);
    }
  });

  it("A's admin cannot change, verify, reset the MFA of, or end the sessions of B's members", async () => {
    const before = await memberB();
    const target = b.clinician.id;
    expectError(await adminA.patch(`/api/v1/org/members/${target}`, { role: 'admin' }), 'NOT_FOUND');
    expectError(await adminA.patch(`/api/v1/org/members/${target}`, { status: 'disabled' }), 'NOT_FOUND');
    expectError(await adminA.patch(`/api/v1/org/members/${target}`, { displayName: 'Taken over' }), 'NOT_FOUND');
    expectError(await adminA.patch(`/api/v1/org/members/${b.admin.id}`, { role: 'nurse' }), 'NOT_FOUND');
    expectError(
      await adminA.put(`/api/v1/org/members/${target}/verification`, { level: 'licence_verified', register: 'BIG', licenceNumber: '123', evidence: 'forged' }),
      'NOT_FOUND',
    );
    expectError(await adminA.post(`/api/v1/org/members/${target}/reset-mfa`), 'NOT_FOUND');
    expectError(await adminA.delete(`/api/v1/org/members/${target}/sessions`), 'NOT_FOUND');

    // B's data, seen by B's admin, is as it was; B's clinician is still signed in with MFA.
    const after = await memberB();
    expect(after).toEqual(before);
    expect(after.role).toBe('clinician');
    expect(after.status).toBe('active');
    expect(after.displayName).toBe('clinician of Bravo Clinic');
    expect(after.verification.level).toBe('unverified');
    expect(after.mfaEnrolled).toBe(true);
    const me = await clinicianB.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.mfa.totp).toBe(true);
    expect((await adminB.get(`/api/v1/org/members/${b.admin.id}`)).body.role).toBe('admin');
  });

  it("the same calls on A's own members work (control)", async () => {
    const r = await adminA.put(`/api/v1/org/members/${a.clinician.id}/verification`, { level: 'identity_verified', evidence: 'ID card seen' });
    expect(r.status).toBe(200);
    expect(r.body.verification.level).toBe('identity_verified');
  });
});

describe('departments and invites of another organisation', () => {
  it('department lists hold only the own organisation', async () => {
    expect((await adminA.get('/api/v1/org/departments')).body.departments.map((d: { id: string }) => d.id)).toEqual([deptA]);
    expect((await adminB.get('/api/v1/org/departments')).body.departments.map((d: { id: string }) => d.id)).toEqual([deptB]);
  });

  it("B's department cannot be used in A's invites or member updates", async () => {
    expectError(await adminA.post('/api/v1/org/invites', { email: 'spy@alpha.test', role: 'clinician', departmentId: deptB }), 'NOT_FOUND');
    expectError(await adminA.patch(`/api/v1/org/members/${a.clinician.id}`, { departmentId: deptB }), 'NOT_FOUND');
    const member = await adminA.get(`/api/v1/org/members/${a.clinician.id}`);
    expect(member.body.departmentId).toBeNull();
    expect((await adminA.get('/api/v1/org/invites')).body.invites.map((i: { email: string }) => i.email)).not.toContain('spy@alpha.test');
    // Control: A's own department is fine.
    expect((await adminA.patch(`/api/v1/org/members/${a.clinician.id}`, { departmentId: deptA })).body.departmentId).toBe(deptA);
  });

  it("A's admin cannot revoke B's invite, and B's invite stays open", async () => {
    expectError(await adminA.delete(`/api/v1/org/invites/${inviteB.id}`), 'NOT_FOUND');
    const listB = (await adminB.get('/api/v1/org/invites')).body.invites;
    expect(listB.find((i: { id: string }) => i.id === inviteB.id).revokedAt).toBeNull();
    const preview = await server.client().get(`/api/v1/invites/${inviteB.token}`);
    expect(preview.status).toBe(200);
    expect(preview.body.organisationName).toBe('Bravo Clinic');
  });

  it('invites created by A are listed only in A, and an accepted one makes a member of A only', async () => {
    const created = await adminA.post('/api/v1/org/invites', { email: 'new.doc@alpha.test', role: 'clinician', departmentId: deptA });
    expect(created.status).toBe(200);
    const id = created.body.invite.id;
    expect((await adminA.get('/api/v1/org/invites')).body.invites.map((i: { id: string }) => i.id)).toContain(id);
    const listB = (await adminB.get('/api/v1/org/invites')).body.invites.map((i: { id: string }) => i.id);
    expect(listB).not.toContain(id);
    expect(listB).toEqual([inviteB.id]);

    const accept = await server.client().post(`/api/v1/invites/${created.body.token}/accept`, { displayName: 'New Doc', password: 'a long enough passphrase' });
    expect(accept.status).toBe(200);
    const emailsA = (await adminA.get('/api/v1/org/members')).body.members.map((m: { email: string }) => m.email);
    const emailsB = (await adminB.get('/api/v1/org/members')).body.members.map((m: { email: string }) => m.email);
    expect(emailsA).toContain('new.doc@alpha.test');
    expect(emailsB).not.toContain('new.doc@alpha.test');
  });

  it("A's organisation settings change leaves B's alone", async () => {
    expect((await adminA.patch('/api/v1/org/settings', { idleTimeoutMinutes: 30, requireMfa: false })).status).toBe(200);
    expect((await adminB.get('/api/v1/org')).body.settings).toEqual({ requireMfa: true, idleTimeoutMinutes: 15 });
    expect((await clinicianB.get('/api/v1/me')).body.idleTimeoutSeconds).toBe(15 * 60);
  });
});
