import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationList, CreatedPatientInvite } from '@consilium/protocol';
import { PASSWORD, type TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { addPerson, DeviceDirectory, MlsDevice, seedOrganisation, signInPerson, startMessagingServer, type Organisation, type Person } from '../test-support/mls-client.js';
import { setVerification } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';

// Patient invitations: a one-time link plus a code said in person; a patient reaches only the
// conversation they were invited to.

let server: TestServer;
let org: Organisation;
let doctor: Person;
let unverified: Person;
let doctorDevice: MlsDevice;
const directory = new DeviceDirectory();
const tokenOf = (url: string) => url.split('#/patient/')[1]!;

beforeAll(async () => {
  server = await startMessagingServer();
  org = await seedOrganisation(server, 'St Elsewhere');
  doctor = await addPerson(server, org, 'doctor');
  unverified = await addPerson(server, org, 'resident');
  await setVerification(server.deps, systemActor(org.id), doctor.id, { level: 'licence_verified', register: 'BIG', licenceNumber: '19000000999', evidence: 'synthetic' });
  doctorDevice = await MlsDevice.create(server, doctor, directory, { keyPackages: 4 });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('patient invitations', () => {
  it('only verified professionals invite patients', async () => {
    const resident = await MlsDevice.create(server, unverified, directory, { keyPackages: 1 });
    expectError(await resident.client.post('/api/v1/patient-invites', { label: 'Patient, bed 3' }), 'NOT_VERIFIED');
  });

  it('needs the code given in person, and ends after five wrong codes', async () => {
    const created = await doctorDevice.client.post<CreatedPatientInvite>('/api/v1/patient-invites', { label: 'Patient, bed 7' });
    expect(created.status).toBe(200);
    const token = tokenOf(created.body.inviteUrl);
    const anyone = server.client();
    expect((await anyone.get(`/api/v1/patient-invites/${token}`)).body.invitedBy).toBe(doctor.displayName);
    const wrong = created.body.code === '000000' ? '111111' : '000000';
    const body = { code: wrong, email: 'pat.seven@example.test', displayName: 'Pat Seven', password: 'a long synthetic password' };
    for (let i = 0; i < 5; i++) expectError(await anyone.post(`/api/v1/patient-invites/${token}/accept`, body), 'INVITE_CODE_INVALID');
    expectError(await anyone.post(`/api/v1/patient-invites/${token}/accept`, { ...body, code: created.body.code }), 'INVITE_INVALID');
  });

  it('makes a patient account that sees only its own conversation', async () => {
    const created = await doctorDevice.client.post<CreatedPatientInvite>('/api/v1/patient-invites', { label: 'Patient, bed 12' });
    const token = tokenOf(created.body.inviteUrl);
    const email = 'pat.twelve@example.test';
    const accepted = await server.client().post(`/api/v1/patient-invites/${token}/accept`, { code: created.body.code, email, displayName: 'Pat Twelve', password: PASSWORD });
    expect(accepted.status).toBe(200);
    expectError(await server.client().post(`/api/v1/patient-invites/${token}/accept`, { code: created.body.code, email: 'x@example.test', displayName: 'X', password: 'another long synthetic password' }), 'INVITE_INVALID');

    const patient: Person = { id: '', email, displayName: 'Pat Twelve' };
    const client = await signInPerson(server, patient);
    const list = await client.get<ConversationList>('/api/v1/conversations');
    expect(list.status).toBe(200);
    expect(list.body.conversations.map((c) => c.id)).toEqual([created.body.invite.conversationId]);
    expect(list.body.conversations[0]!.kind).toBe('patient');
    expectError(await client.get('/api/v1/directory?q='), 'FORBIDDEN');
    expectError(await client.get('/api/v1/cases'), 'FORBIDDEN');
    expectError(await client.get('/api/v1/org'), 'FORBIDDEN');
    expectError(await client.post('/api/v1/patient-invites', { label: 'x' }), 'FORBIDDEN');
    expectError(await client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'group', memberAccountIds: [] }), 'FORBIDDEN');
    // Another patient's conversation of the same doctor, with a photo in it, is out of reach.
    const otherInvite = await doctorDevice.client.post<CreatedPatientInvite>('/api/v1/patient-invites', { label: 'Patient, bed 14' });
    const other = otherInvite.body.invite.conversationId;
    const photo = new Uint8Array(randomBytes(512));
    const blobId = createHash('sha256').update(photo).digest('hex');
    const cookie = (c: typeof client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const put = await fetch(`${doctorDevice.client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${other}&contentType=image%2Fjpeg`, {
      method: 'PUT',
      headers: { cookie: cookie(doctorDevice.client), 'content-type': 'application/octet-stream' },
      body: photo,
    });
    expect(put.status).toBe(200);
    expectError(await client.get(`/api/v1/conversations/${other}`), 'NOT_FOUND');
    // With a device of their own (as the patient's browser registers one), messages stay out of reach too.
    const account = await server.deps.db.selectFrom('account').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const patientDevice = await MlsDevice.create(server, { ...patient, id: account.id }, directory, { keyPackages: 1 });
    expectError(await patientDevice.client.get(`/api/v1/conversations/${other}/messages?after=0`), 'NOT_FOUND');
    expectError(await patientDevice.client.post(`/api/v1/conversations/${other}/ack`, { seq: 1 }), 'NOT_FOUND');
    const download = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${other}`, { headers: { cookie: cookie(client) } });
    expect(download.status).toBe(404);
    expect(((await download.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    // Nor is the patient a colleague others can find or pull into groups.
    const found = await doctorDevice.client.get<{ people: { displayName: string }[] }>('/api/v1/directory?q=Pat');
    expect(found.body.people).toEqual([]);
  });
});
