import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLeaf, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '@consilium/crypto/merkle';
import { openCheckpoint, parseVerifierKey } from '@consilium/crypto/note';
import { AuditEntry, AuditListedEntry, auditEventTypes, encodeAuditLeaf, type AuditEntry as AuditEntryType } from '@consilium/protocol';
import { PASSWORD, seedOrg, signIn, startTestServer, totpNow, type Reply, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import {
  DEPLOYMENT_LOG,
  appendedBy,
  auditEntries,
  auditRows,
  b64,
  checkpointNow,
  latestCheckpoint,
  leafHashOf,
  logSize,
  parseCsv,
  proveConsistency,
  proveInclusion,
  storedLeafHashes,
  verifyOverApi,
} from '../test-support/audit.js';
import { settleVerifications } from './verify-job.js';
import { catchUpIndex } from './indexer.js';
import { createAccount } from '../accounts/service.js';
import { createDepartment } from '../orgs/service.js';
import { inTransaction } from '../deps.js';
import { systemActor, type Actor } from './record.js';
import { encodeLeaf, toAuditEntry, type DecodedLeaf } from './leaf.js';
import { auditCsv } from './export.js';

// One server, two organisations. Every security-relevant action appends its entry to the acting
// organisation's own log in the transaction of the action; failures before sign-in that name no
// account go to the deployment log.

let server: TestServer;
let org: SeededOrg;
let other: SeededOrg;
let admin: TestClient;
let clinicianSecret: string;
let otherAdminSecret: string;

const LOCAL = '127.0.0.1';

type EntryPage = { entries: AuditEntryType[]; nextBefore: number | null };

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Audit Hospital');
  other = await seedOrg(server, 'Other Clinic');
  admin = (await signIn(server, org.admin.email)).client;
});
afterAll(() => server?.stop());

const now = () => server.clock.now().toISOString();
const types = (entries: DecodedLeaf[] | undefined) => (entries ?? []).map((e) => e.type);
const logIds = (logs: Record<string, unknown>) => Object.keys(logs).sort();

/** The fields every entry by a signed-in user carries (NEN 7513: who, which role, where, when, why). */
function expectActorFields(e: DecodedLeaf, accountId: string, role: string) {
  expect(e.organisationId).toBe(org.id);
  expect(e.actor.accountId).toBe(accountId);
  expect(e.actor.role).toBe(role);
  expect(e.at).toBe(now());
  expect(e.networkAddress).toBe(LOCAL);
  expect(e.purposeOfUse).toBe('HOPERAT');
  expect(e.emergency).toBe(false);
}

describe('every audited action appends its entry', () => {
  it('a sign-in with an unknown e-mail goes to the deployment log, with the address as typed', async () => {
    const { result, logs } = await appendedBy(server, () => server.client().post('/api/v1/auth/sign-in', { email: 'Nobody@Nowhere.test', password: PASSWORD }));
    expectError(result, 'INVALID_CREDENTIALS');
    expect(logIds(logs)).toEqual([DEPLOYMENT_LOG]);
    expect(logs[DEPLOYMENT_LOG]).toHaveLength(1);
    expect(logs[DEPLOYMENT_LOG]![0]).toMatchObject({
      log: DEPLOYMENT_LOG,
      type: 'auth.sign_in',
      action: 'E',
      outcome: 'failure',
      at: now(),
      organisationId: null,
      actor: { accountId: null, role: null, email: 'nobody@nowhere.test' },
      networkAddress: LOCAL,
      purposeOfUse: 'HOPERAT',
      emergency: false,
      detail: { reason: 'unknown_account' },
    });
  });

  it("a wrong password for a known account goes to that account's organisation log", async () => {
    const { result, logs } = await appendedBy(server, () => server.client().post('/api/v1/auth/sign-in', { email: org.clinician.email, password: 'not the password at all' }));
    expectError(result, 'INVALID_CREDENTIALS');
    expect(logIds(logs)).toEqual([org.id]);
    const [e] = logs[org.id]!;
    expect(e).toMatchObject({ type: 'auth.sign_in', outcome: 'failure', detail: { reason: 'wrong_password' } });
    expect(e!.actor.email).toBe(org.clinician.email);
    expectActorFields(e!, org.clinician.id, 'clinician');
  });

  it('first sign-in and TOTP enrolment: sign_in (setup stage) then mfa.totp_enrolled', async () => {
    const { result, logs } = await appendedBy(server, () => signIn(server, org.clinician.email));
    clinicianSecret = result.totpSecret;
    expect(logIds(logs)).toEqual([org.id]);
    expect(types(logs[org.id])).toEqual(['auth.sign_in', 'mfa.totp_enrolled']);
    const [signInEntry, enrolled] = logs[org.id]!;
    expect(signInEntry).toMatchObject({ outcome: 'success', action: 'E', entity: { type: 'session' }, detail: { stage: 'mfa_setup_required' } });
    expect(enrolled).toMatchObject({ outcome: 'success', action: 'C', entity: { type: 'account', id: org.clinician.id } });
    for (const e of logs[org.id]!) expectActorFields(e, org.clinician.id, 'clinician');
  });

  it('second factor: a wrong code is a failed auth.second_factor, the right one a successful one', async () => {
    const c = server.client();
    const first = await appendedBy(server, () => c.post('/api/v1/auth/sign-in', { email: org.clinician.email, password: PASSWORD }));
    expect(first.result.body.stage).toBe('mfa_required');
    expect(first.logs[org.id]![0]).toMatchObject({ type: 'auth.sign_in', outcome: 'success', detail: { stage: 'mfa_required' } });

    server.clock.advance(30);
    const good = await totpNow(server, clinicianSecret);
    const wrongCode = good === '000000' ? '000001' : '000000';
    const bad = await appendedBy(server, () => c.post('/api/v1/auth/mfa/totp', { code: wrongCode }));
    expectError(bad.result, 'MFA_INVALID_CODE');
    expect(logIds(bad.logs)).toEqual([org.id]);
    expect(bad.logs[org.id]![0]).toMatchObject({ type: 'auth.second_factor', outcome: 'failure', detail: { method: 'totp' } });

    const ok = await appendedBy(server, () => c.post('/api/v1/auth/mfa/totp', { code: good }));
    expect(ok.result.status).toBe(200);
    expect(types(ok.logs[org.id])).toEqual(['auth.second_factor']);
    expect(ok.logs[org.id]![0]).toMatchObject({ outcome: 'success', entity: { type: 'session', id: first.logs[org.id]![0]!.entity!.id }, detail: { method: 'totp' } });
    expectActorFields(ok.logs[org.id]![0]!, org.clinician.id, 'clinician');

    const out = await appendedBy(server, () => c.post('/api/v1/auth/sign-out'));
    expect(out.result.status).toBe(200);
    expect(types(out.logs[org.id])).toEqual(['auth.sign_out']);
    expect(out.logs[org.id]![0]!.entity).toEqual({ type: 'session', id: first.logs[org.id]![0]!.entity!.id });
    expectActorFields(out.logs[org.id]![0]!, org.clinician.id, 'clinician');
  });

  it('invites: created, revoked, accepted (with the new member), each by its actor', async () => {
    const created = await appendedBy(server, () => admin.post('/api/v1/org/invites', { email: 'revoked@audit-hospital.test', role: 'nurse' }));
    expect(created.result.status).toBe(200);
    const inviteId = created.result.body.invite.id;
    expect(types(created.logs[org.id])).toEqual(['invite.created']);
    expect(created.logs[org.id]![0]).toMatchObject({ action: 'C', entity: { type: 'invite', id: inviteId }, detail: { role: 'nurse' } });
    expectActorFields(created.logs[org.id]![0]!, org.admin.id, 'admin');

    const revoked = await appendedBy(server, () => admin.delete(`/api/v1/org/invites/${inviteId}`));
    expect(revoked.result.status).toBe(200);
    expect(types(revoked.logs[org.id])).toEqual(['invite.revoked']);
    expect(revoked.logs[org.id]![0]).toMatchObject({ action: 'U', entity: { type: 'invite', id: inviteId } });

    const second = (await admin.post('/api/v1/org/invites', { email: 'accepted@audit-hospital.test', role: 'nurse' })).body;
    const accepted = await appendedBy(server, () => server.client().post(`/api/v1/invites/${second.token}/accept`, { displayName: 'Nurse Accepted', password: PASSWORD }));
    expect(accepted.result.status).toBe(200);
    expect(logIds(accepted.logs)).toEqual([org.id]);
    expect(types(accepted.logs[org.id])).toEqual(['member.created', 'invite.accepted']);
    const [memberCreated, inviteAccepted] = accepted.logs[org.id]!;
    const newId = memberCreated!.entity!.id;
    expect(memberCreated).toMatchObject({ entity: { type: 'account' }, detail: { role: 'nurse' }, networkAddress: LOCAL });
    expect(inviteAccepted).toMatchObject({ entity: { type: 'invite', id: second.invite.id }, actor: { accountId: newId, role: 'nurse' }, networkAddress: LOCAL });
  });

  it('member changes: role and verification, with from and to', async () => {
    const role = await appendedBy(server, () => admin.patch(`/api/v1/org/members/${org.clinician.id}`, { role: 'nurse' }));
    expect(role.result.status).toBe(200);
    expect(types(role.logs[org.id])).toEqual(['member.role_changed']);
    expect(role.logs[org.id]![0]).toMatchObject({ action: 'U', entity: { type: 'account', id: org.clinician.id }, detail: { from: 'clinician', to: 'nurse' } });
    expectActorFields(role.logs[org.id]![0]!, org.admin.id, 'admin');
    await admin.patch(`/api/v1/org/members/${org.clinician.id}`, { role: 'clinician' });

    const verification = await appendedBy(server, () =>
      admin.put(`/api/v1/org/members/${org.clinician.id}/verification`, { level: 'licence_verified', register: 'BIG', licenceNumber: '19012345601', evidence: 'BIG register lookup' }),
    );
    expect(verification.result.status).toBe(200);
    expect(types(verification.logs[org.id])).toEqual(['member.verification_changed']);
    expect(verification.logs[org.id]![0]).toMatchObject({ detail: { from: 'unverified', to: 'licence_verified', register: 'BIG' } });
    expectActorFields(verification.logs[org.id]![0]!, org.admin.id, 'admin');
  });

  it('organisation: settings changed and department created', async () => {
    const settings = await appendedBy(server, () => admin.patch('/api/v1/org/settings', { idleTimeoutMinutes: 20 }));
    expect(settings.result.status).toBe(200);
    expect(types(settings.logs[org.id])).toEqual(['org.settings_changed']);
    expect(settings.logs[org.id]![0]).toMatchObject({ action: 'U', entity: { type: 'organisation', id: org.id }, detail: { idleTimeoutMinutes: 20 } });

    const dept = await appendedBy(server, () => admin.post('/api/v1/org/departments', { name: 'Cardiology' }));
    expect(dept.result.status).toBe(200);
    expect(types(dept.logs[org.id])).toEqual(['org.department_created']);
    expect(dept.logs[org.id]![0]).toMatchObject({ action: 'C', entity: { type: 'department', id: dept.result.body.id }, detail: { name: 'Cardiology' } });
    expectActorFields(dept.logs[org.id]![0]!, org.admin.id, 'admin');
  });

  it('every stored entry is a valid protocol AuditEntry, canonical, hashed as stored, with search columns equal to its record', async () => {
    for (const logId of [org.id, other.id, DEPLOYMENT_LOG]) {
      const rows = await auditRows(server, logId);
      await catchUpIndex(server.deps.db, server.deps.dbKind, logId);
      const search = await server.deps.db.selectFrom('audit_search').selectAll().where('log_id', '=', logId).orderBy('idx').execute();
      expect(search.map((s) => Number(s.idx)), 'the search index holds every entry, once').toEqual(rows.map((_, i) => i));
      expect(rows.length).toBeGreaterThan(0);
      rows.forEach((row, i) => {
        expect(Number(row.idx)).toBe(i);
        const leaf = JSON.parse(row.leaf) as DecodedLeaf;
        expect(leaf).toMatchObject({ v: 1, log: logId, index: i });
        const entry = toAuditEntry(leaf);
        expect(AuditEntry.safeParse(entry).success, row.leaf).toBe(true);
        expect(encodeLeaf(logId, i, entry), 'the stored leaf is the canonical encoding').toBe(row.leaf);
        expect(b64(row.leaf_hash)).toBe(b64(hashLeaf(new TextEncoder().encode(row.leaf))));
        expect(search[i]).toMatchObject({ event_type: entry.type, at: entry.at, outcome: entry.outcome, actor_account_id: entry.actor.accountId, case_id: entry.caseId });
        // NEN 7513: an entry made by a person names their role and where they acted from.
        if (entry.actor.accountId !== null) {
          expect(entry.actor.role, row.leaf).not.toBeNull();
          expect(entry.networkAddress, row.leaf).toBe(LOCAL);
        }
        expect(typeof entry.emergency).toBe('boolean');
        if (logId !== DEPLOYMENT_LOG) expect(entry.organisationId).toBe(logId);
      });
    }
  });
});

describe('a failing action leaves no entry', () => {
  it('a duplicate department (409) appends nothing to any log', async () => {
    await admin.post('/api/v1/org/departments', { name: 'Neurology' });
    const { result, logs } = await appendedBy(server, () => admin.post('/api/v1/org/departments', { name: 'Neurology' }));
    expectError(result, 'CONFLICT');
    expect(logs).toEqual({});
  });

  it('demoting the last admin (409) appends nothing', async () => {
    const { result, logs } = await appendedBy(server, () => admin.patch(`/api/v1/org/members/${org.admin.id}`, { role: 'clinician' }));
    expectError(result, 'LAST_ADMIN');
    expect(logs).toEqual({});
  });

  it('an invite for a taken e-mail (409) and a second accept of an invite (410) append nothing', async () => {
    const taken = await appendedBy(server, () => admin.post('/api/v1/org/invites', { email: org.clinician.email, role: 'nurse' }));
    expectError(taken.result, 'EMAIL_TAKEN');
    expect(taken.logs).toEqual({});
    const inv = (await admin.post('/api/v1/org/invites', { email: 'twice@audit-hospital.test', role: 'nurse' })).body;
    expect((await server.client().post(`/api/v1/invites/${inv.token}/accept`, { displayName: 'Once', password: PASSWORD })).status).toBe(200);
    const again = await appendedBy(server, () => server.client().post(`/api/v1/invites/${inv.token}/accept`, { displayName: 'Twice', password: PASSWORD }));
    expectError(again.result, 'INVITE_INVALID');
    expect(again.logs).toEqual({});
  });

  it('an action whose transaction rolls back takes its entry (and the log head) with it', async () => {
    const actor: Actor = { accountId: org.admin.id, role: 'admin', organisationId: org.id, ip: LOCAL };
    const sizeBefore = await logSize(server, org.id);
    // What the append writes to the head (the checkpointer may move checkpointed_size meanwhile).
    const headOf = () => server.deps.db.selectFrom('audit_log_head').select(['size', 'compact_hashes']).where('log_id', '=', org.id).executeTakeFirstOrThrow();
    const headBefore = await headOf();
    await expect(
      inTransaction(server.deps, async (tx) => {
        await createDepartment(tx, actor, 'Rolled Back');
        expect(await logSize({ deps: tx }, org.id), 'inside the transaction the entry is there').toBe(sizeBefore + 1);
        throw new Error('the action fails after its entry was appended');
      }),
    ).rejects.toThrow('the action fails');
    expect(await headOf()).toEqual(headBefore);
    expect(await auditRows(server, org.id, sizeBefore)).toEqual([]);
    const depts = (await admin.get('/api/v1/org/departments')).body.departments.map((d: { name: string }) => d.name);
    expect(depts).not.toContain('Rolled Back');
    // The next entry takes the index the rolled-back one had: no hole.
    const next = await appendedBy(server, () => admin.post('/api/v1/org/departments', { name: 'Committed' }));
    expect(next.logs[org.id]!.map((e) => e.index)).toEqual([sizeBefore]);
  });

  it('no action without its entry: when the audit append fails, the action rolls back', async () => {
    const size = await logSize(server, org.id);
    // A row squatting on the next index makes the append fail (primary key), as a broken log would.
    await server.deps.db
      .insertInto('audit_entry')
      .values({ log_id: org.id, idx: size, leaf: '{}', leaf_hash: new Uint8Array(32) })
      .execute();
    try {
      const r = await admin.post('/api/v1/org/departments', { name: 'Unaudited' });
      // The unique violation of the audit row surfaces as the generic 409 (or a 500): either way, not a 200.
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.body.error.code).toMatch(/^(CONFLICT|INTERNAL)$/);
      const depts = (await admin.get('/api/v1/org/departments')).body.departments.map((d: { name: string }) => d.name);
      expect(depts).not.toContain('Unaudited');
      expect(await logSize(server, org.id)).toBe(size);
    } finally {
      await server.deps.db.deleteFrom('audit_entry').where('log_id', '=', org.id).where('idx', '=', size).execute();
    }
    const r = await admin.post('/api/v1/org/departments', { name: 'Unaudited' });
    expect(r.status).toBe(200);
    expect((await auditEntries(server, org.id, size))[0]).toMatchObject({ index: size, type: 'org.department_created' });
  });
});

describe('signed checkpoints, inclusion and consistency proofs', () => {
  let clinician: TestClient;
  beforeAll(async () => {
    clinician = (await signIn(server, org.clinician.email, clinicianSecret)).client;
  });

  it("a new organisation's log has its own origin; its checkpoint opens with the published verifier key", async () => {
    const fresh = await seedOrg(server, 'Fresh Practice');
    const freshAdmin = (await signIn(server, fresh.admin.email)).client;
    await checkpointNow(server);
    const info = await latestCheckpoint(freshAdmin);
    expect(info.logId).toBe(fresh.id);
    expect(info.origin).toBe(`localhost:8080/consilium/audit/${fresh.id}`);
    expect(info.verifierKey).toBe(server.deps.auditKey.verifierKey);
    expect(info.verifierKey.startsWith('localhost:8080/consilium/audit+')).toBe(true);
    expect(info.checkpoint.origin).toBe(info.origin);
    expect(info.checkpoint.size).toBe(info.size);
  });

  it('checkpoint root = the tree of the stored entries; every entry the API serves has a verifying inclusion proof', async () => {
    await checkpointNow(server);
    const cp = await latestCheckpoint(clinician);
    expect(cp.logId).toBe(org.id);
    expect(cp.checkpoint.size).toBe(await logSize(server, org.id));
    const leaves = await storedLeafHashes(server, org.id);
    expect(b64(cp.checkpoint.rootHash)).toBe(b64(rootFromLeafHashes(leaves.slice(0, cp.checkpoint.size))));

    // The admin reads the entries; the client rebuilds each leaf from the entry it was served.
    const served: AuditEntryType[] = [];
    let before: number | null = cp.checkpoint.size;
    while (before !== null) {
      const page: Reply<EntryPage> = await admin.get<EntryPage>(`/api/v1/audit/entries?limit=500&before=${before}`);
      expect(page.status).toBe(200);
      served.push(...page.body.entries);
      before = page.body.nextBefore;
    }
    expect(served.map((e) => e.index).sort((x, y) => x - y)).toEqual([...Array(cp.checkpoint.size).keys()]);
    for (const entry of served) {
      expect(await proveInclusion(clinician, entry.index, cp.checkpoint.size, cp.checkpoint.rootHash, leafHashOf(org.id, entry)), `entry ${entry.index}`).toBe(true);
    }
    // A proof for one entry does not prove another in its place.
    const r = await clinician.get(`/api/v1/audit/proofs/inclusion?index=1&size=${cp.checkpoint.size}`);
    expect(verifyInclusion(leafHashOf(org.id, served.find((e) => e.index === 2)!), 1, cp.checkpoint.size, r.body.proof.map((p: string) => new Uint8Array(Buffer.from(p, 'base64'))), cp.checkpoint.rootHash)).toBe(false);
  });

  it('after more actions and a second checkpoint, consistency proofs link the old tree heads to the new', async () => {
    await checkpointNow(server);
    const first = await latestCheckpoint(clinician);
    for (const name of ['Oncology', 'Radiology', 'Paediatrics']) expect((await admin.post('/api/v1/org/departments', { name })).status).toBe(200);
    await checkpointNow(server);
    const second = await latestCheckpoint(clinician);
    expect(second.checkpoint.size).toBeGreaterThan(first.checkpoint.size);
    expect(await proveConsistency(clinician, first.checkpoint.size, second.checkpoint.size, first.checkpoint.rootHash, second.checkpoint.rootHash)).toBe(true);
    // Equal sizes: empty proof, same root.
    expect(await proveConsistency(clinician, second.checkpoint.size, second.checkpoint.size, second.checkpoint.rootHash, second.checkpoint.rootHash)).toBe(true);

    // From every earlier size (roots recomputed by the client from the entries) to the new head.
    const leaves = await storedLeafHashes(server, org.id);
    for (let from = 1; from <= first.checkpoint.size; from++) {
      expect(await proveConsistency(clinician, from, second.checkpoint.size, rootFromLeafHashes(leaves.slice(0, from)), second.checkpoint.rootHash), `from ${from}`).toBe(true);
    }
    // The same proof does not link a different old root.
    const r = await clinician.get(`/api/v1/audit/proofs/consistency?from=${first.checkpoint.size}&to=${second.checkpoint.size}`);
    const proof = (r.body.proof as string[]).map((p) => new Uint8Array(Buffer.from(p, 'base64')));
    expect(verifyConsistency(first.checkpoint.size, second.checkpoint.size, proof, rootFromLeafHashes(leaves.slice(1, first.checkpoint.size + 1)), second.checkpoint.rootHash)).toBe(false);
  });

  it('bad proof queries are 400s in the error shape', async () => {
    const size = await logSize(server, org.id);
    const bad = [
      [`inclusion?index=${size}&size=${size}`, 'BAD_REQUEST'],
      [`inclusion?index=5&size=5`, 'BAD_REQUEST'],
      [`inclusion?index=0&size=${size + 1}`, 'BAD_REQUEST'],
      [`inclusion?index=0&size=0`, 'BAD_REQUEST'],
      [`consistency?from=0&to=${size}`, 'BAD_REQUEST'],
      [`consistency?from=5&to=4`, 'BAD_REQUEST'],
      [`consistency?from=1&to=${size + 1}`, 'BAD_REQUEST'],
      [`inclusion?index=abc&size=3`, 'VALIDATION_FAILED'],
      [`inclusion?index=-1&size=3`, 'VALIDATION_FAILED'],
      [`inclusion?index=1.5&size=3`, 'VALIDATION_FAILED'],
      [`inclusion?index=1`, 'VALIDATION_FAILED'],
      [`inclusion?index=0&size=1&extra=1`, 'VALIDATION_FAILED'],
      [`inclusion?index=0&size=99999999999999999999`, 'VALIDATION_FAILED'],
      [`consistency?from=1&to=x`, 'VALIDATION_FAILED'],
      [`consistency`, 'VALIDATION_FAILED'],
    ] as const;
    for (const [query, code] of bad) {
      const r = await clinician.get(`/api/v1/audit/proofs/${query}`);
      expectError(r, code);
    }
  });
});

describe('who may read the audit log', () => {
  let clinician: TestClient;
  let officer: TestClient;
  beforeAll(async () => {
    clinician = (await signIn(server, org.clinician.email, clinicianSecret)).client;
    await createAccount(server.deps, systemActor(org.id), {
      organisationId: org.id,
      email: 'officer@audit-hospital.test',
      displayName: 'Security Officer',
      role: 'security_officer',
      departmentId: null,
      password: PASSWORD,
    });
    officer = (await signIn(server, 'officer@audit-hospital.test')).client;
  });

  it('a clinician gets 403 on entries, export and verify, but may read the checkpoint and proofs', async () => {
    const { logs } = await appendedBy(server, async () => {
      expectError(await clinician.get('/api/v1/audit/entries'), 'FORBIDDEN');
      expectError(await clinician.get('/api/v1/audit/export?format=csv'), 'FORBIDDEN');
      expectError(await clinician.get('/api/v1/audit/export?format=fhir'), 'FORBIDDEN');
      expectError(await clinician.post('/api/v1/audit/verify'), 'FORBIDDEN');
    });
    expect(logs).toEqual({});
    await checkpointNow(server);
    const cp = await latestCheckpoint(clinician);
    expect(await proveInclusion(clinician, 0, cp.checkpoint.size, cp.checkpoint.rootHash)).toBe(true);
  });

  it('without a session every audit route is 401', async () => {
    const anon = server.client();
    for (const url of ['/api/v1/audit/log', '/api/v1/audit/entries', '/api/v1/audit/proofs/inclusion?index=0&size=1', '/api/v1/audit/export?format=csv']) {
      expectError(await anon.get(url), 'UNAUTHENTICATED');
    }
    expectError(await anon.post('/api/v1/audit/verify'), 'UNAUTHENTICATED');
  });

  it('a security officer may search, export and verify', async () => {
    const search = await officer.get('/api/v1/audit/entries?type=auth.sign_in&limit=5');
    expect(search.status).toBe(200);
    expect(search.body.entries.length).toBe(5);
    expect((await officer.get('/api/v1/audit/export?format=csv')).status).toBe(200);
    const v = await verifyOverApi(officer);
    expect(v.state).toBe('done');
    expect(v.result?.ok).toBe(true);
  });

  it("an admin of another organisation sees only their own log: search, export, checkpoint and proofs", async () => {
    const signedIn = await signIn(server, other.admin.email);
    otherAdminSecret = signedIn.totpSecret;
    const otherAdmin = signedIn.client;
    const search = await otherAdmin.get('/api/v1/audit/entries?limit=500');
    expect(search.status).toBe(200);
    expect(search.body.entries.length).toBeGreaterThan(0);
    for (const e of search.body.entries as AuditEntryType[]) expect(e.organisationId).toBe(other.id);
    expect(JSON.stringify(search.body)).not.toContain(org.id);
    expect(JSON.stringify(search.body)).not.toContain(org.admin.id);

    const csv = await otherAdmin.get('/api/v1/audit/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.body).not.toContain(org.id);
    expect(csv.body).not.toContain(org.admin.id);
    const fhir = await otherAdmin.get('/api/v1/audit/export?format=fhir');
    expect(JSON.stringify(fhir.body)).not.toContain(org.admin.id);
    // Searching for one of our people by id finds nothing (the search itself records the id typed).
    const byActor = await otherAdmin.get(`/api/v1/audit/entries?actor=${org.admin.id}`);
    expect(byActor.body.entries).toEqual([]);

    await checkpointNow(server);
    const mine = await latestCheckpoint(otherAdmin);
    expect(mine.logId).toBe(other.id);
    const orgSize = await logSize(server, org.id);
    expect(mine.size).toBeLessThan(orgSize);
    // An index that exists only in the other log is out of range here.
    expectError(await otherAdmin.get(`/api/v1/audit/proofs/inclusion?index=${orgSize - 1}&size=${orgSize}`), 'BAD_REQUEST');
    // Proofs come from the caller's log and verify against the caller's checkpoint.
    expect(await proveInclusion(otherAdmin, mine.checkpoint.size - 1, mine.checkpoint.size, mine.checkpoint.rootHash)).toBe(true);
    // One log's checkpoint cannot be passed off as another's: the origin line names the log.
    const theirs = (await admin.get('/api/v1/audit/log')).body;
    expect(() => openCheckpoint(theirs.checkpoint, [parseVerifierKey(mine.verifierKey)], mine.origin)).toThrow(/not/);
    // The other organisation's admin verifying their log reads nothing of ours.
    const v = await verifyOverApi(otherAdmin);
    expect(v).toMatchObject({ logId: other.id, state: 'done', result: { logId: other.id, ok: true } });
  });
});

describe('searching the log', () => {
  it('filters by actor and by type, and each search appends an audit.read entry', async () => {
    const rows = await auditEntries(server, org.id);
    const byActor = await appendedBy(server, () => admin.get(`/api/v1/audit/entries?actor=${org.clinician.id}&limit=500`));
    expect(byActor.result.status).toBe(200);
    const expected = rows.filter((e) => e.actor.accountId === org.clinician.id).map((e) => e.index).reverse();
    expect(expected.length).toBeGreaterThan(3);
    expect(byActor.result.body.entries.map((e: AuditEntryType) => e.index)).toEqual(expected);
    expect(byActor.result.body.nextBefore).toBeNull();
    expect(byActor.logs[org.id]).toHaveLength(1);
    expect(byActor.logs[org.id]![0]).toMatchObject({
      type: 'audit.read',
      action: 'R',
      actor: { accountId: org.admin.id, role: 'admin' },
      networkAddress: LOCAL,
      detail: { actor: org.clinician.id, type: null, from: null, to: null, results: expected.length },
    });

    const byType = await admin.get('/api/v1/audit/entries?type=org.department_created&limit=500');
    const expectedTypes = rows.filter((e) => e.type === 'org.department_created').map((e) => e.index).reverse();
    expect(byType.body.entries.map((e: AuditEntryType) => e.index)).toEqual(expectedTypes);
    expect(expectedTypes.length).toBeGreaterThan(2);
    // Every entry the API serves is exactly the signed record, with the leaf text that was hashed:
    // a client hashes that text itself, and re-encoding the fields shown gives the same text.
    const stored = await auditRows(server, org.id);
    for (const e of byType.body.entries as AuditListedEntry[]) {
      const { leaf, ...fields } = AuditListedEntry.parse(e);
      expect(fields).toEqual(toAuditEntry(rows[e.index]!));
      expect(leaf).toBe(stored[e.index]!.leaf);
      expect(b64(hashLeaf(new TextEncoder().encode(leaf)))).toBe(b64(stored[e.index]!.leaf_hash));
      const { index, ...event } = fields;
      expect(encodeAuditLeaf(org.id, index, event)).toBe(leaf);
    }
  });

  it('filters by time range [from, to)', async () => {
    server.clock.advance(60);
    const t1 = now();
    await admin.post('/api/v1/org/departments', { name: 'Range One' });
    server.clock.advance(60);
    const t2 = now();
    await admin.post('/api/v1/org/departments', { name: 'Range Two' });
    server.clock.advance(60);
    const t3 = now();
    await admin.post('/api/v1/org/departments', { name: 'Range Three' });
    const names = async (query: string) =>
      ((await admin.get(`/api/v1/audit/entries?type=org.department_created&${query}`)).body.entries as AuditEntryType[]).map((e) => e.detail.name);
    expect(await names(`from=${t2}&to=${t3}`)).toEqual(['Range Two']);
    expect(await names(`from=${t1}&to=${t3}`)).toEqual(['Range Two', 'Range One']);
    expect(await names(`from=${t2}`)).toEqual(['Range Three', 'Range Two']);
    expect(await names(`to=${t1}&limit=500`)).not.toContain('Range One');
    const read = (await auditEntries(server, org.id)).at(-1)!;
    expect(read).toMatchObject({ type: 'audit.read', detail: { from: null, to: t1 } });
  });

  it('time bounds are instants: a bound without milliseconds means the same instant', async () => {
    // 2026-11-23T09:03:00Z and 2026-11-23T09:03:00.000Z are the same instant; both are valid Timestamps.
    server.clock.advance(60);
    const t1 = now();
    await admin.post('/api/v1/org/departments', { name: 'Whole Second One' });
    server.clock.advance(60);
    const t2 = now();
    await admin.post('/api/v1/org/departments', { name: 'Whole Second Two' });
    const short = (t: string) => t.replace('.000Z', 'Z');
    const r = await admin.get(`/api/v1/audit/entries?type=org.department_created&from=${short(t1)}&to=${short(t2)}`);
    expect(r.status).toBe(200);
    expect(r.body.entries.map((e: AuditEntryType) => e.detail.name)).toEqual(['Whole Second One']);
    // The same instants written with a UTC offset (Amsterdam in winter is +01:00).
    const plusOne = (t: string) => encodeURIComponent(new Date(Date.parse(t) + 3600_000).toISOString().replace('.000Z', '+01:00'));
    const withOffset = await admin.get(`/api/v1/audit/entries?type=org.department_created&from=${plusOne(t1)}&to=${plusOne(t2)}`);
    expect(withOffset.status, JSON.stringify(withOffset.body)).toBe(200);
    expect(withOffset.body.entries.map((e: AuditEntryType) => e.detail.name)).toEqual(['Whole Second One']);
    const csv = parseCsv((await admin.get(`/api/v1/audit/export?format=csv&from=${short(t1)}&to=${short(t2)}`)).body);
    expect(csv.slice(1).map((row) => row[2])).toEqual(['org.department_created']);
  });

  it('pages backwards with before/limit: every entry exactly once, newest first', async () => {
    const size = await logSize(server, org.id);
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const r: Reply<EntryPage> = await admin.get<EntryPage>(`/api/v1/audit/entries?limit=7${before === null ? '' : `&before=${before}`}`);
      expect(r.status).toBe(200);
      expect(r.body.entries.length).toBeLessThanOrEqual(7);
      seen.push(...r.body.entries.map((e: AuditEntryType) => e.index));
      before = r.body.nextBefore;
      pages++;
    } while (before !== null);
    expect(seen).toEqual([...Array(size).keys()].reverse());
    expect(pages).toBe(Math.floor(size / 7) + 1);
    // Each page was itself recorded.
    const reads = (await auditEntries(server, org.id, size)).filter((e) => e.type === 'audit.read');
    expect(reads).toHaveLength(pages);
  });

  it('rejects bad search queries', async () => {
    for (const q of ['limit=0', 'limit=501', 'type=no.such_type', 'actor=not-a-uuid', 'from=yesterday', 'before=-1', 'sql=1']) {
      expectError(await admin.get(`/api/v1/audit/entries?${q}`), 'VALIDATION_FAILED');
    }
  });
});

describe('exports', () => {
  const CSV_HEADER = [
    'index', 'at', 'type', 'action', 'outcome', 'actor_account_id', 'actor_role', 'actor_email', 'on_behalf_of',
    'case_id', 'entity_type', 'entity_id', 'purpose_of_use', 'network_address', 'emergency', 'detail',
  ];

  it('CSV: header, one RFC 4180 row per entry, attachment headers; the export is itself audited', async () => {
    await admin.post('/api/v1/org/departments', { name: 'Quotes, "Commas" and, more' });
    const size = await logSize(server, org.id);
    const { result: r, logs } = await appendedBy(server, () => admin.get('/api/v1/audit/export?format=csv'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-[0-9T-]+Z\.csv"$/);
    const text = r.body as string;
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(CSV_HEADER);
    expect(rows).toHaveLength(size + 1);
    const entries = await auditEntries(server, org.id);
    rows.slice(1).forEach((row, i) => {
      const e = entries[i]!;
      expect(row).toHaveLength(CSV_HEADER.length);
      expect(row.slice(0, 6)).toEqual([String(i), e.at, e.type, e.action, e.outcome, e.actor.accountId ?? '']);
      expect(JSON.parse(row[15]!)).toEqual(e.detail);
      expect(row[14]).toBe(String(e.emergency));
    });
    // The quoted department name survives the round trip.
    expect(rows.some((row) => row[15]!.includes('Quotes, \\"Commas\\" and, more'))).toBe(true);
    expect(text).toContain('""Commas');

    expect(logs[org.id]).toHaveLength(1);
    expect(logs[org.id]![0]).toMatchObject({ type: 'audit.exported', action: 'R', actor: { accountId: org.admin.id, role: 'admin' }, detail: { format: 'csv', entries: size } });
  });

  it('CSV cells a spreadsheet would run as a formula are neutralised', async () => {
    // Through the API: an e-mail that starts with '-' (allowed in an address) typed at a failed sign-in.
    await createAccount(server.deps, systemActor(org.id), {
      organisationId: org.id,
      email: '-2+3@audit-hospital.test',
      displayName: 'Formula Name',
      role: 'clinician',
      departmentId: null,
      password: PASSWORD,
    });
    await server.client().post('/api/v1/auth/sign-in', { email: '-2+3@audit-hospital.test', password: 'wrong password here' });
    const rows = parseCsv((await admin.get('/api/v1/audit/export?format=csv')).body);
    const emails = rows.map((r) => r[7]);
    expect(emails).toContain("'-2+3@audit-hospital.test");
    expect(emails).not.toContain('-2+3@audit-hospital.test');

    // And every dangerous first character, straight through the exporter.
    const base = toAuditEntry((await auditEntries(server, org.id, 0))[0]!);
    const risky = ['=HYPERLINK("http://evil.test","x")', '+1+1', '-1+1', '@SUM(A1)', '\tTAB', '\rCR', '=1,"2"'];
    const csv = auditCsv(risky.map((s, i) => ({ ...base, index: i, actor: { ...base.actor, email: s } })));
    const parsed = parseCsv(csv).slice(1).map((r) => r[7]);
    expect(parsed).toEqual(risky.map((s) => `'${s}`));
  });

  it('FHIR R4: a Bundle (collection) of AuditEvents with type, recorded, outcome, requestor agent and observer', async () => {
    const size = await logSize(server, org.id);
    const { result: r, logs } = await appendedBy(server, () => admin.get('/api/v1/audit/export?format=fhir'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-[0-9T-]+Z\.fhir\.json"$/);
    const bundle = r.body;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', total: size, timestamp: now() });
    expect(bundle.entry).toHaveLength(size);
    const entries = await auditEntries(server, org.id);
    const origin = `localhost:8080/consilium/audit/${org.id}`;
    bundle.entry.forEach((item: { fullUrl: string; resource: any }, i: number) => {
      const e = entries[i]!;
      const ev = item.resource;
      expect(item.fullUrl).toMatch(/^urn:/);
      expect(ev.resourceType).toBe('AuditEvent');
      expect(ev.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      expect(ev.type).toMatchObject({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: expect.stringMatching(/^1101\d\d$/) });
      expect(ev.subtype).toEqual([{ system: expect.any(String), code: e.type }]);
      expect(ev.action).toBe(e.action);
      expect(ev.recorded).toBe(e.at);
      expect(ev.outcome).toBe(e.outcome === 'success' ? '0' : '4');
      expect(ev.agent[0].requestor).toBe(true);
      if (e.actor.accountId) expect(ev.agent[0].who.identifier.value).toBe(e.actor.accountId);
      else expect(ev.agent[0].who.display).toEqual(expect.any(String));
      if (e.networkAddress) expect(ev.agent[0].network).toEqual({ address: e.networkAddress, type: '2' });
      expect(ev.source.observer).toEqual({ display: origin });
      expect(ev.purposeOfEvent[0].coding[0].code).toBe(e.purposeOfUse);
    });
    const failed = bundle.entry.map((x: { resource: any }) => x.resource).find((ev: any) => ev.outcome === '4');
    expect(failed).toBeDefined();
    expect(logs[org.id]![0]).toMatchObject({ type: 'audit.exported', detail: { format: 'fhir', entries: size } });
  });

  it('exports a time range', async () => {
    server.clock.advance(60);
    const from = now();
    await admin.post('/api/v1/org/departments', { name: 'Exported Range' });
    const r = await admin.get(`/api/v1/audit/export?format=fhir&from=${from}`);
    expect(r.body.entry.map((x: { resource: any }) => x.resource.subtype[0].code)).toEqual(['org.department_created']);
    expectError(await admin.get('/api/v1/audit/export?format=pdf'), 'VALIDATION_FAILED');
  });

  it('with a trusted proxy, a forged forwarded address starting with = reaches the CSV neutralised', async () => {
    const proxied = await startTestServer({ trustProxy: true });
    try {
      const o = await seedOrg(proxied, 'Proxy Hospital');
      const { client } = await signIn(proxied, o.admin.email);
      await client.request('POST', '/api/v1/auth/sign-in', { email: o.clinician.email, password: 'wrong password here' }, { headers: { 'x-forwarded-for': '=1+2' } });
      const rows = parseCsv((await client.get('/api/v1/audit/export?format=csv')).body);
      const addresses = rows.slice(1).map((row) => row[13]);
      expect(addresses.some((a) => a!.startsWith('='))).toBe(false);
      expect(addresses).toContain("'=1+2");
    } finally {
      await proxied.stop();
    }
  });
});

describe('verification over the API', () => {
  it('POST /audit/verify starts a background job: ok on an untouched log, and the check is itself recorded', async () => {
    await checkpointNow(server);
    const size = await logSize(server, org.id);
    const { result: job, logs } = await appendedBy(server, () => verifyOverApi(admin));
    expect(job).toMatchObject({ logId: org.id, state: 'done', startedAt: now(), finishedAt: now(), error: null });
    expect(job.result).toMatchObject({ logId: org.id, entries: size, ok: true, problems: [], verifiedAt: now() });
    expect(job.result!.checkpoints).toBeGreaterThan(1);
    expect(logs[org.id]![0]).toMatchObject({ type: 'audit.read', action: 'E', detail: { verify: true, ok: true, entries: size } });
    expect(auditEventTypes).toContain(logs[org.id]![0]!.type);
    // The status routes: the job by id, and the latest job of the caller's log.
    expect((await admin.get(`/api/v1/audit/verify/${job.id}`)).body).toEqual(job);
    expect((await admin.get('/api/v1/audit/verify')).body).toEqual({ job });
  });

  it('one verification runs at a time per log: a POST while one runs (here, on another node) answers the running job', async () => {
    const running = { id: 'other-node-job', log_id: org.id, requested_by: null, state: 'running' as const, started_at: now(), heartbeat_at: now(), finished_at: null, report: null, error: null };
    await server.deps.db.insertInto('audit_verify_job').values(running).execute();
    // The database itself refuses a second running job for the log, whichever node tries.
    await expect(server.deps.db.insertInto('audit_verify_job').values({ ...running, id: 'second' }).execute()).rejects.toThrow();
    const answered = await admin.post('/api/v1/audit/verify');
    expect(answered.status).toBe(202);
    expect(answered.body).toMatchObject({ id: 'other-node-job', state: 'running', result: null });
    expect((await admin.get('/api/v1/audit/verify')).body.job.id).toBe('other-node-job');
    await server.deps.db.updateTable('audit_verify_job').set({ state: 'failed', finished_at: now(), error: 'test' }).where('id', '=', 'other-node-job').execute();
    // Once it has finished, a new one starts.
    const fresh = await verifyOverApi(admin);
    expect(fresh.id).not.toBe('other-node-job');
    expect(fresh).toMatchObject({ state: 'done', result: { ok: true } });
  });

  it('a job lost with its server (no heartbeat for a minute) is marked failed, and a new one may start', async () => {
    const logId = org.id;
    const lost = { id: 'lost-job', log_id: logId, requested_by: null, state: 'running' as const, started_at: now(), heartbeat_at: now(), finished_at: null, report: null, error: null };
    await server.deps.db.insertInto('audit_verify_job').values(lost).execute();
    const blocked = await admin.post('/api/v1/audit/verify');
    expect(blocked.body.id).toBe('lost-job');
    server.clock.advance(61);
    const fresh = await admin.post('/api/v1/audit/verify');
    expect(fresh.status).toBe(202);
    expect(fresh.body.id).not.toBe('lost-job');
    expect((await admin.get('/api/v1/audit/verify/lost-job')).body).toMatchObject({ state: 'failed', error: expect.stringContaining('stopped') });
    await settleVerifications(server.deps.db);
    expect((await admin.get(`/api/v1/audit/verify/${fresh.body.id}`)).body).toMatchObject({ state: 'done', result: { ok: true } });
  });

  it("a job of another organisation's log is not found", async () => {
    const job = await verifyOverApi(admin);
    const otherAdmin = (await signIn(server, other.admin.email, otherAdminSecret)).client;
    expectError(await otherAdmin.get(`/api/v1/audit/verify/${job.id}`), 'NOT_FOUND');
    expect((await otherAdmin.get('/api/v1/audit/verify')).body.job?.id).not.toBe(job.id);
  });
});
