import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '@consilium/protocol';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { appendedBy, parseCsv } from '../test-support/audit.js';
import { caseAuditFields } from '../cases/paging.js';
import { auditEvent, recordAudit, type Actor } from './record.js';

// A patient asks who looked at their case (NEN 7513's right of access to the access log). The
// security officer answers from the audit log alone: a search and an export (CSV or FHIR R4
// AuditEvent) narrowed to the pseudonymous case id, optionally to a time range too. Entries are
// appended as the case and attachment features append them (caseAuditFields), through the log.

let server: TestServer;
let org: SeededOrg;
let other: SeededOrg;
let officer: TestClient;
let otherAdmin: TestClient;
const caseA = randomUUID();
const caseB = randomUUID();

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Case Access Hospital');
  other = await seedOrg(server, 'Case Access Other');
  officer = (await signIn(server, org.admin.email)).client;
  otherAdmin = (await signIn(server, other.admin.email)).client;
  const clinician: Actor = { accountId: org.clinician.id, role: 'clinician', organisationId: org.id, ip: '10.1.2.3' };
  const admin: Actor = { accountId: org.admin.id, role: 'admin', organisationId: org.id, ip: '10.1.2.4' };
  const about = (id: string) => caseAuditFields({ id, organisation_id: org.id });
  await recordAudit(server.deps, auditEvent(server.deps, clinician, 'case.opened', 'C', about(caseA)));
  await recordAudit(server.deps, auditEvent(server.deps, admin, 'case.opened', 'C', about(caseB)));
  server.clock.advance(60);
  await recordAudit(server.deps, auditEvent(server.deps, admin, 'attachment.downloaded', 'R', { ...about(caseA), emergency: true, purposeOfUse: 'ETREAT' }));
  await recordAudit(server.deps, auditEvent(server.deps, clinician, 'attachment.downloaded', 'R', about(caseB)));
  server.clock.advance(60);
  await recordAudit(server.deps, auditEvent(server.deps, clinician, 'case.exported', 'R', about(caseA)));
});
afterAll(() => server?.stop());

describe("a patient's case: who accessed it", () => {
  it('a search by case id lists exactly the accesses to that case, newest first, with who, role, when, why and break-glass', async () => {
    const { result, logs } = await appendedBy(server, () => officer.get(`/api/v1/audit/entries?caseId=${caseA}&limit=500`));
    expect(result.status).toBe(200);
    const entries = result.body.entries as AuditEntry[];
    expect(entries.map((e) => [e.type, e.actor.accountId, e.actor.role, e.emergency, e.purposeOfUse])).toEqual([
      ['case.exported', org.clinician.id, 'clinician', false, 'TREAT'],
      ['attachment.downloaded', org.admin.id, 'admin', true, 'ETREAT'],
      ['case.opened', org.clinician.id, 'clinician', false, 'TREAT'],
    ]);
    expect(entries.every((e) => e.caseId === caseA && e.organisationId === org.id)).toBe(true);
    // Reading the log is itself an access that the log records.
    expect(logs[org.id]).toHaveLength(1);
    expect(logs[org.id]![0]).toMatchObject({ type: 'audit.read', actor: { accountId: org.admin.id } });
  });

  it('CSV and FHIR exports for the case hold its entries only; the export names the case it concerned', async () => {
    const { result: csv, logs } = await appendedBy(server, () => officer.get(`/api/v1/audit/export?format=csv&caseId=${caseA}`));
    expect(csv.status).toBe(200);
    const rows = parseCsv(csv.body as string);
    const caseColumn = rows[0]!.indexOf('case_id');
    const typeColumn = rows[0]!.indexOf('type');
    // The officer's search above was an access to the case's record too, and is listed with it.
    expect(rows.slice(1).map((r) => r[caseColumn])).toEqual([caseA, caseA, caseA, caseA]);
    expect(rows.slice(1).map((r) => r[typeColumn])).toEqual(['case.opened', 'attachment.downloaded', 'case.exported', 'audit.read']);
    expect(logs[org.id]![0]).toMatchObject({ type: 'audit.exported', caseId: caseA, detail: { format: 'csv', entries: 4 } });

    // FHIR, now also holding the CSV export above.
    const fhir = await officer.get(`/api/v1/audit/export?format=fhir&caseId=${caseA}`);
    expect(fhir.status).toBe(200);
    const events = (fhir.body.entry as { resource: any }[]).map((x) => x.resource);
    expect(events.map((ev) => ev.subtype[0].code)).toEqual(['case.opened', 'attachment.downloaded', 'case.exported', 'audit.read', 'audit.exported']);
    for (const ev of events) {
      expect(ev.entity).toContainEqual(expect.objectContaining({ what: { identifier: { system: 'urn:consilium:case', value: caseA } }, role: expect.objectContaining({ code: '1', display: 'Patient' }) }));
    }
    expect(JSON.stringify(fhir.body)).not.toContain(caseB);
  });

  it('a case and a time range together narrow to both', async () => {
    const from = new Date(server.clock.now().getTime() - 90_000).toISOString();
    const to = new Date(server.clock.now().getTime() - 30_000).toISOString();
    const r = await officer.get(`/api/v1/audit/export?format=fhir&caseId=${caseA}&from=${from}&to=${to}`);
    expect((r.body.entry as { resource: any }[]).map((x) => x.resource.subtype[0].code)).toEqual(['attachment.downloaded']);
  });

  it('a clinician may not read the access log, and another organisation sees nothing of the case', async () => {
    const clinician = (await signIn(server, org.clinician.email)).client;
    expect((await clinician.get(`/api/v1/audit/entries?caseId=${caseA}`)).status).toBe(403);
    const theirs = await otherAdmin.get(`/api/v1/audit/entries?caseId=${caseA}&limit=500`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.entries).toEqual([]);
    // Their export holds only their own search for that id (their log records what they did).
    const theirExport = parseCsv((await otherAdmin.get(`/api/v1/audit/export?format=csv&caseId=${caseA}`)).body as string);
    const actorColumn = theirExport[0]!.indexOf('actor_account_id');
    expect(theirExport.slice(1).map((r) => [r[theirExport[0]!.indexOf('type')], r[actorColumn]])).toEqual([['audit.read', other.admin.id]]);
  });
});
