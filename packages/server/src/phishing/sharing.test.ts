import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { auditEntries } from '../test-support/audit.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { SmtpSink } from './testing/smtp-sink.js';

// Campaign sharing between admins and security officers: owner (the creator) / author / viewer,
// enforced on every campaign route, audited; another organisation's admin is refused.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let other: SeededOrg;
let owner: TestClient;
let admin: TestClient;
let officer2: TestClient;
let outsider: TestClient;
let ownerId: string;
let officer2Id: string;
let nurseId: string;
let campaignId: string;

const base = '/api/v1/phishing';

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600 } });
  org = await seedOrg(server, 'Share Hospital');
  other = await seedOrg(server, 'Other Clinic');
  const mk = (local: string, role: 'security_officer' | 'nurse') =>
    createAccount(server.deps, systemActor(org.id), {
      organisationId: org.id,
      email: `${local}@share-hospital.test`,
      displayName: `${local} tester`,
      role,
      departmentId: null,
      password: 'correct horse battery staple',
    });
  ownerId = (await mk('officer', 'security_officer')).id;
  officer2Id = (await mk('officer2', 'security_officer')).id;
  nurseId = (await mk('nurse', 'nurse')).id;
  owner = (await signIn(server, 'officer@share-hospital.test')).client;
  officer2 = (await signIn(server, 'officer2@share-hospital.test')).client;
  admin = (await signIn(server, org.admin.email)).client;
  outsider = (await signIn(server, other.admin.email)).client;
  const now = server.clock.now().getTime();
  const c = await owner.post(`${base}/campaigns`, {
    name: 'Roster change',
    templateId: 'teams-voicemail',
    target: { everyone: true },
    window: { start: new Date(now).toISOString(), end: new Date(now + 86_400_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'roster-service.test',
  });
  expect(c.status).toBe(200);
  campaignId = c.body.id;
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

const campaignRoutes = () => [
  ['get', `${base}/campaigns/${campaignId}`],
  ['get', `${base}/campaigns/${campaignId}/results`],
  ['get', `${base}/campaigns/${campaignId}/recipients`],
  ['get', `${base}/campaigns/${campaignId}/export.csv`],
  ['get', `${base}/campaigns/${campaignId}/members`],
  ['post', `${base}/campaigns/${campaignId}/launch`],
  ['post', `${base}/campaigns/${campaignId}/cancel`],
] as const;
const call = (c: TestClient, method: 'get' | 'post', url: string) => (method === 'get' ? c.get(url) : c.post(url));

describe('campaign sharing', () => {
  it('makes the creator the owner; the campaign is invisible to other admins until shared', async () => {
    expect((await owner.get(`${base}/campaigns/${campaignId}`)).body).toMatchObject({ myRole: 'owner', createdBy: ownerId });
    expect((await admin.get(`${base}/campaigns`)).body.campaigns).toEqual([]);
    for (const [method, url] of campaignRoutes()) {
      const r = await call(admin, method, url);
      expect([url, r.status, r.body.error?.code]).toEqual([url, 404, 'NOT_FOUND']);
    }
    const sharing = await owner.get(`${base}/campaigns/${campaignId}/members`);
    expect(sharing.body.members).toEqual([expect.objectContaining({ accountId: ownerId, role: 'owner' })]);
    // Candidates: the organisation's admins and security officers, never a nurse or another organisation's admin.
    const candidates = sharing.body.candidates.map((c: { accountId: string }) => c.accountId).sort();
    expect(candidates).toEqual([org.admin.id, officer2Id].sort());
  });

  it('lets a viewer read results but not launch, cancel or share', async () => {
    const shared = await owner.put(`${base}/campaigns/${campaignId}/members/${org.admin.id}`, { role: 'viewer' });
    expect(shared.status).toBe(200);
    expect(shared.body.members.map((m: { accountId: string; role: string }) => [m.accountId, m.role])).toContainEqual([org.admin.id, 'viewer']);
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({
      type: 'phishing.campaign_shared',
      actor: { accountId: ownerId },
      entity: { type: 'phishing_campaign', id: campaignId },
      detail: { account: org.admin.id, role: 'viewer', previousRole: null },
    });
    expect((await admin.get(`${base}/campaigns`)).body.campaigns).toEqual([expect.objectContaining({ id: campaignId, myRole: 'viewer' })]);
    for (const url of [`${base}/campaigns/${campaignId}/results`, `${base}/campaigns/${campaignId}/recipients`, `${base}/campaigns/${campaignId}/members`]) {
      expect((await admin.get(url)).status).toBe(200);
    }
    expect((await admin.get(`${base}/campaigns/${campaignId}/members`)).body.candidates).toEqual([]);
    for (const r of [
      await admin.post(`${base}/campaigns/${campaignId}/launch`),
      await admin.post(`${base}/campaigns/${campaignId}/cancel`),
      await admin.put(`${base}/campaigns/${campaignId}/members/${officer2Id}`, { role: 'viewer' }),
      await admin.delete(`${base}/campaigns/${campaignId}/members/${org.admin.id}`),
    ]) {
      expect([r.status, r.body.error.code]).toEqual([403, 'CAMPAIGN_ROLE_REQUIRED']);
    }
    expect((await owner.get(`${base}/campaigns/${campaignId}`)).body.status).toBe('draft');
  });

  it('lets an author launch once the owner raises the role', async () => {
    await owner.put(`${base}/campaigns/${campaignId}/members/${org.admin.id}`, { role: 'author' });
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.campaign_shared', detail: { role: 'author', previousRole: 'viewer' } });
    const launched = await admin.post(`${base}/campaigns/${campaignId}/launch`);
    expect(launched.status).toBe(200);
    expect(launched.body).toMatchObject({ status: 'scheduled', myRole: 'author' });
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.campaign_launched', actor: { accountId: org.admin.id } });
    // An author still cannot share.
    const r = await admin.put(`${base}/campaigns/${campaignId}/members/${officer2Id}`, { role: 'viewer' });
    expect(r.body.error.code).toBe('CAMPAIGN_ROLE_REQUIRED');
  });

  it('shares only with active admins and security officers of the same organisation', async () => {
    const nurse = await owner.put(`${base}/campaigns/${campaignId}/members/${nurseId}`, { role: 'viewer' });
    expect([nurse.status, nurse.body.error.code]).toEqual([403, 'FORBIDDEN']);
    const foreign = await owner.put(`${base}/campaigns/${campaignId}/members/${other.admin.id}`, { role: 'viewer' });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const self = await owner.put(`${base}/campaigns/${campaignId}/members/${ownerId}`, { role: 'viewer' });
    expect([self.status, self.body.error.code]).toEqual([409, 'CONFLICT']);
    const removeOwner = await owner.delete(`${base}/campaigns/${campaignId}/members/${ownerId}`);
    expect([removeOwner.status, removeOwner.body.error.code]).toEqual([409, 'CONFLICT']);
    const bad = await owner.put(`${base}/campaigns/${campaignId}/members/${officer2Id}`, { role: 'owner' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it("refuses another organisation's admin on every campaign route, including sharing", async () => {
    for (const [method, url] of campaignRoutes()) {
      const r = await call(outsider, method, url);
      expect([url, r.status, r.body.error?.code]).toEqual([url, 404, 'NOT_FOUND']);
    }
    const grab = await outsider.put(`${base}/campaigns/${campaignId}/members/${other.admin.id}`, { role: 'author' });
    expect([grab.status, grab.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await outsider.get(`${base}/campaigns`)).body.campaigns).toEqual([]);
    expect((await outsider.get(`${base}/overview`)).body.campaigns).toEqual([]);
    // Nothing of the kind reached either organisation's audit log.
    expect((await auditEntries(server, other.id)).filter((e) => e.type.startsWith('phishing.'))).toEqual([]);
  });

  it('revokes: the former member no longer sees the campaign, not even in the overview', async () => {
    expect((await officer2.get(`${base}/overview`)).body.campaigns).toEqual([]);
    expect((await admin.get(`${base}/overview`)).body.campaigns.map((c: { campaignId: string }) => c.campaignId)).toEqual([campaignId]);
    const revoked = await owner.delete(`${base}/campaigns/${campaignId}/members/${org.admin.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.members.map((m: { accountId: string }) => m.accountId)).toEqual([ownerId]);
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({
      type: 'phishing.campaign_unshared',
      actor: { accountId: ownerId },
      detail: { account: org.admin.id, role: 'author' },
    });
    expect((await admin.get(`${base}/campaigns/${campaignId}`)).status).toBe(404);
    expect((await admin.get(`${base}/overview`)).body.campaigns).toEqual([]);
    expect((await admin.post(`${base}/campaigns/${campaignId}/cancel`)).status).toBe(404);
    const again = await owner.delete(`${base}/campaigns/${campaignId}/members/${org.admin.id}`);
    expect([again.status, again.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
