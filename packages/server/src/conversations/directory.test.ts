import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Directory } from '@consilium/protocol';
import type { TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { addPerson, seedOrganisation, signInPerson, startMessagingServer, type Organisation, type Person } from '../test-support/mls-client.js';

// The directory behind "new conversation" and "add people": colleagues of the caller's own
// organisation only, with their verification state, verified ones first.

let server: TestServer;
let org: Organisation;
let otherOrg: Organisation;
let asker: Person;
let verified: Person;
let unverified: Person;
let patient: Person;
let suspended: Person;
let foreign: Person;

beforeAll(async () => {
  server = await startMessagingServer();
  org = await seedOrganisation(server, 'Directory General');
  otherOrg = await seedOrganisation(server, 'Elsewhere Clinic');
  asker = await addPerson(server, org, 'asker');
  unverified = await addPerson(server, org, 'aaron');
  verified = await addPerson(server, org, 'zoe');
  patient = await addPerson(server, org, 'pat', 'patient');
  suspended = await addPerson(server, org, 'sam');
  foreign = await addPerson(server, otherOrg, 'zara');
  await server.deps.db.updateTable('account').set({ verification_level: 'licence_verified' }).where('id', '=', verified.id).execute();
  await server.deps.db.updateTable('account').set({ status: 'disabled' }).where('id', '=', suspended.id).execute();
});
afterAll(async () => {
  await server?.stop();
});

describe('directory search', () => {
  it('lists active colleagues of the same organisation, verified first, with their verification level', async () => {
    const client = await signInPerson(server, asker);
    const r = await client.get<Directory>('/api/v1/directory');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ids = r.body.people.map((p) => p.accountId);
    // Zoe sorts after Aaron by name, but comes first: her licence is verified.
    expect(ids).toEqual([verified.id, unverified.id]);
    expect(r.body.people[0]!.verificationLevel).toBe('licence_verified');
    expect(r.body.people[1]!.verificationLevel).not.toBe('licence_verified');
    for (const hidden of [asker, patient, suspended, foreign]) expect(ids).not.toContain(hidden.id);
    // Searching by name finds nobody of another organisation.
    expect((await client.get<Directory>('/api/v1/directory?q=zara')).body.people).toEqual([]);
    expect((await client.get<Directory>('/api/v1/directory?q=ZOE')).body.people.map((p) => p.accountId)).toEqual([verified.id]);
  });

  it('bad queries get typed errors; LIKE wildcards match nothing special', async () => {
    const client = await signInPerson(server, asker);
    expectError(await client.get(`/api/v1/directory?q=${'x'.repeat(101)}`), 'VALIDATION_FAILED');
    expectError(await client.get('/api/v1/directory?q=a&extra=1'), 'VALIDATION_FAILED');
    expect((await client.get<Directory>('/api/v1/directory?q=%25')).body.people.length).toBe(2);
    expect((await client.get<Directory>('/api/v1/directory?q=z_e')).body.people).toEqual([]);
  });
});
