import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseSummary, OnCallRoster } from '@consilium/protocol';
import type { TestClient, TestServer } from '../test-support/harness.js';
import { expectError, randomId } from '../test-support/http.js';
import { auditEntries } from '../test-support/audit.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation, signInPerson, startMessagingServer, type Organisation, type Person } from '../test-support/mls-client.js';
import { createDepartment } from '../orgs/service.js';
import { setVerification, updateMember } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { firePagesDue } from './paging.js';
import { purgeExpiredCases } from './retention.js';

// Patient cases end to end: a real server and database (SQLite, or PostgreSQL with
// CONSILIUM_TEST_PG), real MLS devices, and the server's clock moved by hand for escalation.

let server: TestServer;
let org: Organisation;
let otherOrg: Organisation;
const directory = new DeviceDirectory();
let cardiology: string;
let neurology: string;
let radiology: string;
let alice: Person; // ward doctor, asks
let bob: Person; // cardiology on call, step 1
let carol: Person; // step 2
let dave: Person; // step 3
let eve: Person; // not verified
let mallory: Person; // another organisation
let admin: TestClient;
const devices: Record<string, MlsDevice> = {};

async function verify(person: Person, orgId: string) {
  await setVerification(server.deps, systemActor(orgId), person.id, { level: 'licence_verified', register: 'BIG', licenceNumber: `19${person.id.slice(0, 8)}`, evidence: 'BIG register lookup (synthetic)' });
}

const clientOf = (p: Person) => devices[p.id]!.client;

/** Moves the server clock to `iso` plus a second (it only moves forward). */
function advanceTo(iso: string): void {
  const ahead = (Date.parse(iso) - server.clock.now().getTime()) / 1000 + 1;
  if (ahead > 0) server.clock.advance(ahead);
}

async function caseOf(p: Person, id: string): Promise<CaseSummary> {
  const r = await clientOf(p).get<CaseDetail>(`/api/v1/cases/${id}`);
  expect(r.status).toBe(200);
  return r.body.case;
}

async function open(requester: Person, body: Record<string, unknown>) {
  return clientOf(requester).post<CaseDetail>('/api/v1/cases', { id: randomId(), ...body });
}

async function caseEvents(caseId: string) {
  return (await auditEntries(server, org.id)).filter((e) => e.caseId === caseId).map((e) => ({ type: e.type, detail: e.detail, actor: e.actor.accountId }));
}

beforeAll(async () => {
  server = await startMessagingServer();
  org = await seedOrganisation(server, 'St Elsewhere');
  otherOrg = await seedOrganisation(server, 'County General');
  cardiology = (await createDepartment(server.deps, systemActor(org.id), 'Cardiology')).id;
  neurology = (await createDepartment(server.deps, systemActor(org.id), 'Neurology')).id;
  radiology = (await createDepartment(server.deps, systemActor(org.id), 'Radiology')).id;
  alice = await addPerson(server, org, 'alice');
  bob = await addPerson(server, org, 'bob');
  carol = await addPerson(server, org, 'carol');
  dave = await addPerson(server, org, 'dave');
  eve = await addPerson(server, org, 'eve');
  mallory = await addPerson(server, otherOrg, 'mallory');
  for (const p of [alice, bob, carol, dave]) await verify(p, org.id);
  await verify(mallory, otherOrg.id);
  for (const p of [alice, bob, carol, dave, eve, mallory]) devices[p.id] = await MlsDevice.create(server, p, directory, { keyPackages: 8 });
  const adminPerson = await addPerson(server, org, 'admin', 'admin');
  admin = await signInPerson(server, adminPerson);
  const roster = await admin.put<OnCallRoster>(`/api/v1/oncall/${cardiology}`, {
    entries: [
      { step: 1, accountId: bob.id },
      { step: 2, accountId: carol.id },
      { step: 3, accountId: dave.id },
    ],
  });
  expect(roster.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('on-call rosters', () => {
  it('shows everyone who is on call now, step by step, before they page', async () => {
    const r = await clientOf(alice).get<OnCallRoster>(`/api/v1/oncall/${cardiology}`);
    expect(r.status).toBe(200);
    expect(r.body.now.map((s) => [s.step, s.people.map((p) => p.accountId)])).toEqual([
      [1, [bob.id]],
      [2, [carol.id]],
      [3, [dave.id]],
    ]);
  });

  it('only admins keep rosters, and only verified colleagues of the organisation go on them', async () => {
    expectError(await clientOf(alice).put(`/api/v1/oncall/${neurology}`, { entries: [{ step: 1, accountId: bob.id }] }), 'FORBIDDEN');
    expectError(await admin.put(`/api/v1/oncall/${neurology}`, { entries: [{ step: 1, accountId: eve.id }] }), 'NOT_VERIFIED');
    expectError(await admin.put(`/api/v1/oncall/${neurology}`, { entries: [{ step: 1, accountId: mallory.id }] }), 'NOT_FOUND');
    expectError(await admin.put(`/api/v1/oncall/${randomId()}`, { entries: [] }), 'NOT_FOUND');
    expectError(await admin.put(`/api/v1/oncall/${neurology}`, { entries: [{ step: 0, accountId: bob.id }] }), 'VALIDATION_FAILED');
  });

  it('leaves out shifts that have not started or have ended', async () => {
    const now = server.clock.now().getTime();
    const r = await admin.put<OnCallRoster>(`/api/v1/oncall/${neurology}`, {
      entries: [
        { step: 1, accountId: carol.id, startsAt: new Date(now + 3600_000).toISOString(), endsAt: new Date(now + 7200_000).toISOString() },
        { step: 2, accountId: dave.id, startsAt: new Date(now - 3600_000).toISOString(), endsAt: new Date(now + 3600_000).toISOString() },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.entries).toHaveLength(2);
    expect(r.body.now).toEqual([{ step: 2, people: [{ accountId: dave.id, displayName: dave.displayName }] }]);
  });
});

describe('opening a case', () => {
  it('is for verified professionals only, with verified colleagues', async () => {
    expectError(await open(eve, { departmentId: cardiology, urgency: 'routine' }), 'NOT_VERIFIED');
    expectError(await open(alice, { departmentId: cardiology, urgency: 'routine', memberAccountIds: [eve.id] }), 'NOT_VERIFIED');
    expectError(await open(alice, { departmentId: cardiology, urgency: 'routine', memberAccountIds: [mallory.id] }), 'NOT_FOUND');
  });

  it('refuses an urgent consult when nobody is on call, so the requester calls instead', async () => {
    expectError(await open(alice, { departmentId: radiology, urgency: 'urgent' }), 'NO_ONE_ON_CALL');
    expectError(await open(alice, { departmentId: radiology, urgency: 'routine' }), 'NO_ONE_ON_CALL');
    const withColleague = await open(alice, { departmentId: radiology, urgency: 'routine', memberAccountIds: [carol.id] });
    expect(withColleague.status).toBe(200);
    expect(withColleague.body.case.page).toBeNull();
  });

  it('validates the body against the protocol schema', async () => {
    expectError(await open(alice, { departmentId: cardiology, urgency: 'critical' }), 'VALIDATION_FAILED');
    expectError(await open(alice, { departmentId: cardiology, urgency: 'routine', patientName: 'x' }), 'VALIDATION_FAILED');
    expectError(await clientOf(alice).post('/api/v1/conversations', { id: randomId(), kind: 'case', memberAccountIds: [] }), 'VALIDATION_FAILED');
  });

  it('a routine consult reaches whoever is first on call, without paging', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'routine' });
    expect(r.status).toBe(200);
    expect(r.body.conversation.kind).toBe('case');
    expect(r.body.conversation.members.map((m) => m.accountId).sort()).toEqual([alice.id, bob.id].sort());
    expect(r.body.case).toMatchObject({ status: 'open', urgency: 'routine', page: null, departmentName: 'Cardiology' });
  });
});

describe('an urgent consult, from page to close', () => {
  let caseId: string;

  it('opens with the whole chain in the encrypted conversation and pages step one', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'urgent' });
    expect(r.status).toBe(200);
    caseId = r.body.case.id;
    expect(r.body.conversation.members.map((m) => m.accountId).sort()).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
    expect(r.body.case.page).toMatchObject({ state: 'paging', step: 1, stepCount: 3, notifications: 1 });
    expect(r.body.case.page!.targets.filter((t) => t.notifiedAt).map((t) => t.accountId)).toEqual([bob.id]);

    // The SBAR consult travels end to end encrypted; the server holds only ciphertext.
    const sbar = JSON.stringify({ type: 'case.header', patient: { initials: 'J.D.', ageBand: '60-69', sex: 'M' }, situation: 'Chest pain 2 h', background: 'T2DM', assessment: 'ST elevation V2-V4', recommendation: 'Cath lab?' });
    await devices[alice.id]!.startGroup(caseId, r.body.conversation.members.map((m) => m.accountId));
    await devices[alice.id]!.send(caseId, sbar);
    await devices[bob.id]!.joinWelcomes();
    await devices[bob.id]!.receive(caseId);
    expect(devices[bob.id]!.texts(caseId)).toEqual([sbar]);
    const stored = await server.deps.db.selectFrom('mls_message').select('body').where('conversation_id', '=', caseId).execute();
    expect(stored.map((m) => m.body).join()).not.toContain('ST elevation');

    expect((await caseOf(bob, caseId)).awaitingMyResponse).toBe(true);
    expect((await caseOf(carol, caseId)).awaitingMyResponse).toBe(false);
    const awaiting = await clientOf(bob).get<{ cases: CaseSummary[] }>('/api/v1/cases?filter=awaiting');
    expect(awaiting.body.cases.map((c) => c.id)).toEqual([caseId]);
  });

  it('tells the paged devices over their WebSocket', async () => {
    const socket = await devices[carol.id]!.socket();
    try {
      await socket.next('ready');
      const page = (await caseOf(alice, caseId)).page!;
      advanceTo(new Date(Date.parse(page.stepStartedAt) + 15 * 60_000).toISOString());
      await firePagesDue(server.deps);
      await socket.next('case', (f) => f.caseId === caseId);
    } finally {
      socket.close();
    }
    const page = (await caseOf(alice, caseId)).page!;
    expect(page).toMatchObject({ state: 'paging', step: 2 });
    expect((await caseOf(carol, caseId)).awaitingMyResponse).toBe(true);
    expect((await caseOf(bob, caseId)).awaitingMyResponse).toBe(false);
  });

  it('re-notifies the current step until someone accepts, and reading is not accepting', async () => {
    const before = (await caseOf(alice, caseId)).page!;
    advanceTo(before.nextActionAt!);
    await firePagesDue(server.deps);
    const after = (await caseOf(alice, caseId)).page!;
    expect(after).toMatchObject({ state: 'paging', step: 2, notifications: before.notifications + 1 });
    const events = await caseEvents(caseId);
    expect(events.filter((e) => e.type === 'case.renotified').at(-1)!.detail).toMatchObject({ step: 2, notified: carol.id });
  });

  it('moves on at once when everyone on the step declines', async () => {
    expectError(await clientOf(bob).post(`/api/v1/cases/${caseId}/decline`), 'FORBIDDEN');
    const r = await clientOf(carol).post<CaseSummary>(`/api/v1/cases/${caseId}/decline`);
    expect(r.status).toBe(200);
    expect(r.body.page).toMatchObject({ state: 'paging', step: 3 });
    expect((await caseOf(dave, caseId)).awaitingMyResponse).toBe(true);
  });

  it('stops paging on an explicit accept, and no timer fires afterwards', async () => {
    expectError(await clientOf(alice).post(`/api/v1/cases/${caseId}/accept`), 'FORBIDDEN');
    const r = await clientOf(dave).post<CaseSummary>(`/api/v1/cases/${caseId}/accept`);
    expect(r.status).toBe(200);
    expect(r.body.page).toMatchObject({ state: 'accepted', acceptedBy: dave.id, nextActionAt: null });
    expectError(await clientOf(bob).post(`/api/v1/cases/${caseId}/accept`), 'CONFLICT');
    const notifications = r.body.page!.notifications;
    server.clock.advance(3600);
    await firePagesDue(server.deps);
    expect((await caseOf(alice, caseId)).page).toMatchObject({ state: 'accepted', notifications });
  });

  it('is answered by a consultant and closed by the requester; then nothing changes', async () => {
    expectError(await clientOf(alice).post(`/api/v1/cases/${caseId}/answered`), 'FORBIDDEN');
    expect((await clientOf(dave).post<CaseSummary>(`/api/v1/cases/${caseId}/answered`)).body.status).toBe('answered');
    expectError(await clientOf(bob).post(`/api/v1/cases/${caseId}/close`, { outcomeRecorded: true }), 'FORBIDDEN');
    expectError(await clientOf(alice).post(`/api/v1/cases/${caseId}/close`, {}), 'VALIDATION_FAILED');
    const closed = await clientOf(alice).post<CaseSummary>(`/api/v1/cases/${caseId}/close`, { outcomeRecorded: true });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    expectError(await clientOf(dave).post(`/api/v1/cases/${caseId}/escalate`, {}), 'CASE_CLOSED');
    expect((await clientOf(alice).post(`/api/v1/cases/${caseId}/exports`, { format: 'fhir-r4-bundle' })).status).toBe(200);
  });

  it('left an audit trail of every step, tied to the pseudonymous case id', async () => {
    const events = await caseEvents(caseId);
    expect(events.map((e) => e.type)).toEqual([
      'case.opened',
      'case.paged',
      'case.escalated',
      'case.paged',
      'case.renotified',
      'case.declined',
      'case.escalated',
      'case.paged',
      'case.accepted',
      'case.answered',
      'case.closed',
      'case.exported',
    ]);
    expect(events.find((e) => e.type === 'case.escalated')!.detail).toMatchObject({ from: 1, to: 2, reason: 'timeout' });
    expect(events.filter((e) => e.type === 'case.escalated')[1]!.detail).toMatchObject({ from: 2, to: 3, reason: 'declined' });
    expect(events.find((e) => e.type === 'case.accepted')!.actor).toBe(dave.id);
  });
});

describe('escalation edge cases', () => {
  it('an emergency nobody accepts ends unanswered and tells the requester; a manual escalation pages again', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'emergency' });
    const id = r.body.case.id;
    for (let step = 1; step <= 3; step++) {
      const page = (await caseOf(alice, id)).page!;
      expect(page.step).toBe(step);
      advanceTo(new Date(Date.parse(page.stepStartedAt) + 5 * 60_000).toISOString());
      await firePagesDue(server.deps);
    }
    expect((await caseOf(alice, id)).page).toMatchObject({ state: 'unanswered', nextActionAt: null });
    expect((await caseEvents(id)).filter((e) => e.type === 'case.unanswered')).toHaveLength(1);
    const again = await clientOf(alice).post<CaseSummary>(`/api/v1/cases/${id}/escalate`, {});
    expect(again.body.page).toMatchObject({ state: 'paging', step: 1 });
    const chosen = await clientOf(alice).post<CaseSummary>(`/api/v1/cases/${id}/escalate`, { step: 3 });
    expect(chosen.body.page).toMatchObject({ state: 'paging', step: 3 });
    expectError(await clientOf(alice).post(`/api/v1/cases/${id}/escalate`, {}), 'CONFLICT');
    expectError(await clientOf(alice).post(`/api/v1/cases/${id}/escalate`, { step: 7 }), 'VALIDATION_FAILED');
    // A late accept still counts.
    expect((await clientOf(bob).post<CaseSummary>(`/api/v1/cases/${id}/accept`)).body.page!.state).toBe('accepted');
  });

  it('an accept racing a due timer changes the page once', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'urgent' });
    const id = r.body.case.id;
    advanceTo(new Date(Date.parse(r.body.case.page!.stepStartedAt) + 15 * 60_000).toISOString());
    const [accepted] = await Promise.all([clientOf(bob).post<CaseSummary>(`/api/v1/cases/${id}/accept`), firePagesDue(server.deps), firePagesDue(server.deps)]);
    const events = (await caseEvents(id)).map((e) => e.type);
    expect(events.filter((t) => t === 'case.escalated').length).toBeLessThanOrEqual(1);
    const page = (await caseOf(alice, id)).page!;
    if (accepted.status === 200) expect(page.state).toBe('accepted');
    else {
      // The timer won: bob was no longer the step being paged, but anyone on the chain may still accept.
      expect(page.step).toBe(2);
      expect((await clientOf(bob).post<CaseSummary>(`/api/v1/cases/${id}/accept`)).status).toBe(200);
    }
  });

  it('caps urgent consults per requester per hour (alarm fatigue)', async () => {
    expect((await admin.patch('/api/v1/org/case-policy', { urgentPerHour: 1 })).status).toBe(200);
    expectError(await clientOf(bob).patch('/api/v1/org/case-policy', { urgentPerHour: 100 }), 'FORBIDDEN');
    const first = await open(carol, { departmentId: cardiology, urgency: 'urgent' });
    expect(first.status).toBe(200);
    const second = await open(carol, { departmentId: cardiology, urgency: 'emergency' });
    expectError(second, 'RATE_LIMITED');
    expect(second.body.error.retryAfterSeconds).toBeGreaterThan(0);
    expect((await open(carol, { departmentId: cardiology, urgency: 'routine' })).status).toBe(200);
    await admin.patch('/api/v1/org/case-policy', { urgentPerHour: 10 });
  });
});

describe('a durable escalation timer', () => {
  it('lives in the database: a second server on the same storage fires it, and two ticking nodes fire it once', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'emergency' });
    const id = r.body.case.id;
    const { startTestServer } = await import('../test-support/harness.js');
    // A node started after the first (as after a crash): it shares the storage and the clock.
    const second = await startTestServer({}, { storageOf: server });
    try {
      advanceTo(new Date(Date.parse(r.body.case.page!.stepStartedAt) + 6 * 60_000).toISOString());
      // PostgreSQL nodes tick at the same moment; SQLite is one node's database (a second writer
      // waits on the file lock), so there the restarted node and the first take turns.
      if (server.deps.dbKind === 'postgres') await Promise.all([firePagesDue(second.deps), firePagesDue(server.deps), firePagesDue(second.deps)]);
      else for (const deps of [second.deps, server.deps, second.deps]) await firePagesDue(deps);
      const escalations = (await auditEntries(server, org.id)).filter((e) => e.caseId === id && e.type === 'case.escalated');
      expect(escalations).toHaveLength(1);
      expect((await caseOf(alice, id)).page).toMatchObject({ state: 'paging', step: 2 });
    } finally {
      await second.close();
    }
  });
});

describe('who sees a case', () => {
  it('only its participants: not another organisation, not a colleague who is not in it', async () => {
    const r = await open(alice, { departmentId: cardiology, urgency: 'routine' });
    const id = r.body.case.id;
    expectError(await clientOf(mallory).get(`/api/v1/cases/${id}`), 'NOT_FOUND');
    expectError(await clientOf(carol).get(`/api/v1/cases/${id}`), 'NOT_FOUND');
    expectError(await clientOf(carol).post(`/api/v1/cases/${id}/accept`), 'NOT_FOUND');
    expect((await clientOf(mallory).get<{ cases: CaseSummary[] }>('/api/v1/cases')).body.cases).toEqual([]);
    expectError(await clientOf(mallory).get(`/api/v1/oncall/${cardiology}`), 'NOT_FOUND');
    const mine = await clientOf(alice).get<{ cases: CaseSummary[] }>('/api/v1/cases?filter=mine');
    expect(mine.body.cases.every((c) => c.openedBy === alice.id)).toBe(true);
    expectError(await clientOf(alice).get('/api/v1/cases?filter=everything'), 'VALIDATION_FAILED');
  });
});

describe('the case list', () => {
  it('filters mine, my department, open and urgent, among the cases the caller takes part in', async () => {
    // Bob works in cardiology; Alice has no department.
    await updateMember(server.deps, systemActor(org.id), bob.id, { departmentId: cardiology });
    const routine = (await open(alice, { departmentId: cardiology, urgency: 'routine' })).body.case.id;
    const urgentReply = await open(alice, { departmentId: cardiology, urgency: 'urgent' });
    expect(urgentReply.status).toBe(200);
    const urgent = urgentReply.body.case.id;
    const bobsOwn = (await open(bob, { departmentId: radiology, urgency: 'routine', memberAccountIds: [carol.id] })).body.case.id;
    expect((await clientOf(alice).post(`/api/v1/cases/${routine}/close`, { outcomeRecorded: true })).status).toBe(200);

    const list = async (p: Person, filter: string) => {
      const r = await clientOf(p).get<{ cases: CaseSummary[] }>(`/api/v1/cases?filter=${filter}`);
      expect(r.status).toBe(200);
      return r.body.cases;
    };
    const ids = (cases: CaseSummary[]) => cases.map((c) => c.id);

    const all = await list(bob, 'all');
    expect(ids(all)).toEqual(expect.arrayContaining([routine, urgent, bobsOwn]));

    const mine = await list(bob, 'mine');
    expect(ids(mine)).toContain(bobsOwn);
    expect(mine.every((c) => c.openedBy === bob.id)).toBe(true);

    const department = await list(bob, 'department');
    expect(ids(department)).toEqual(expect.arrayContaining([routine, urgent]));
    expect(ids(department)).not.toContain(bobsOwn);
    expect(department.every((c) => c.departmentId === cardiology)).toBe(true);
    expect(await list(alice, 'department')).toEqual([]);

    const open_ = await list(bob, 'open');
    expect(ids(open_)).toEqual(expect.arrayContaining([urgent, bobsOwn]));
    expect(ids(open_)).not.toContain(routine);
    expect(open_.every((c) => c.status !== 'closed')).toBe(true);

    const urgentOnly = await list(bob, 'urgent');
    expect(ids(urgentOnly)).toContain(urgent);
    expect(ids(urgentOnly)).not.toContain(bobsOwn);
    expect(urgentOnly.every((c) => c.urgency !== 'routine' && c.status !== 'closed')).toBe(true);

    // Carol takes part in Bob's case only through being added: she sees it, Mallory sees nothing.
    expect(ids(await list(carol, 'all'))).toContain(bobsOwn);
    expect(await list(mallory, 'all')).toEqual([]);
    await updateMember(server.deps, systemActor(org.id), bob.id, { departmentId: null });
  });
});

describe('retention after closure', () => {
  it('deletes a closed case’s ciphertext when the organisation’s retention runs out, and keeps the record', async () => {
    expect((await admin.patch('/api/v1/org/case-policy', { retentionDaysAfterClose: 30 })).status).toBe(200);
    const r = await open(alice, { departmentId: cardiology, urgency: 'routine' });
    const id = r.body.case.id;
    await devices[alice.id]!.startGroup(id, r.body.conversation.members.map((m) => m.accountId));
    await devices[alice.id]!.send(id, JSON.stringify({ type: 'case.outcome', summary: 'Discharged with follow-up' }));
    expect((await clientOf(alice).post(`/api/v1/cases/${id}/close`, { outcomeRecorded: true })).status).toBe(200);
    const count = async () => Number((await server.deps.db.selectFrom('mls_message').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', id).executeTakeFirstOrThrow()).n);
    expect(await count()).toBeGreaterThan(0);
    server.clock.advance(29 * 86400);
    await purgeExpiredCases(server.deps);
    expect(await count()).toBeGreaterThan(0);
    server.clock.advance(2 * 86400);
    await purgeExpiredCases(server.deps);
    expect(await count()).toBe(0);
    // Sessions ended long ago (a month passed): read the record straight from the database.
    const record = await server.deps.db.selectFrom('patient_case').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(record).toMatchObject({ status: 'closed', opened_by: alice.id });
    expect(record.purged_at).not.toBeNull();
    expect((await caseEvents(id)).map((e) => e.type)).toContain('case.purged');
  });
});
