import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLeaf, openCheckpoint, parseVerifierKey, verifyInclusion } from '@consilium/crypto';
import type { Directory, OrgConnection, OrgConnectionList } from '@consilium/protocol';
import type { TestClient, TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { checkpointLogs } from '../audit/checkpointer.js';
import { auditEntriesOfType } from '../test-support/audit.js';
import { addPerson, DeviceDirectory, fromB64, MlsDevice, seedOrganisation, signInPerson, startMessagingServer, type Organisation, type Person } from '../test-support/mls-client.js';

// Explicit connections between organisations (SQLite, or PostgreSQL with CONSILIUM_TEST_PG): not
// connected, nobody of the other organisation exists for messaging; connected, its verified
// colleagues are found and messaged with real MLS devices; ended, nothing new crosses. Every step
// is in both organisations' audit logs, and admin views stay per organisation.

let server: TestServer;
let alpha: Organisation;
let bravo: Organisation;
let charlie: Organisation;
let alphaAdmin: Person;
let bravoAdmin: Person;
let charlieAdmin: Person;
let ann: Person; // alpha clinician
let bea: Person; // bravo, licence verified
let ben: Person; // bravo, unverified
let cat: Person; // charlie, verified
const admins = new Map<string, TestClient>();
const directory = new DeviceDirectory();
let annDevice: MlsDevice;
let beaDevice: MlsDevice;
let catDevice: MlsDevice;
let connectionId: string;

const verify = (p: Person) => server.deps.db.updateTable('account').set({ verification_level: 'licence_verified' }).where('id', '=', p.id).execute();
const search = async (device: MlsDevice, q = '') => {
  const r = await device.client.get<Directory>(`/api/v1/directory${q ? `?q=${q}` : ''}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.people;
};
const auditTypes = async (organisationId: string) =>
  (await auditEntriesOfType(server, organisationId, 'org.connection_')).map((e) => ({ type: e.type, peer: e.detail.peerOrganisationId }));

beforeAll(async () => {
  server = await startMessagingServer();
  alpha = await seedOrganisation(server, 'Alpha Hospital');
  bravo = await seedOrganisation(server, 'Bravo Clinic');
  charlie = await seedOrganisation(server, 'Charlie Practice');
  alphaAdmin = await addPerson(server, alpha, 'admin', 'admin');
  bravoAdmin = await addPerson(server, bravo, 'admin', 'admin');
  charlieAdmin = await addPerson(server, charlie, 'admin', 'admin');
  ann = await addPerson(server, alpha, 'ann');
  bea = await addPerson(server, bravo, 'bea');
  ben = await addPerson(server, bravo, 'ben');
  cat = await addPerson(server, charlie, 'cat');
  await verify(bea);
  await verify(cat);
  for (const [org, admin] of [
    [alpha, alphaAdmin],
    [bravo, bravoAdmin],
    [charlie, charlieAdmin],
  ] as const)
    admins.set(org.id, await signInPerson(server, admin));
  annDevice = await MlsDevice.create(server, ann, directory, { keyPackages: 4 });
  beaDevice = await MlsDevice.create(server, bea, directory, { keyPackages: 4 });
  catDevice = await MlsDevice.create(server, cat, directory, { keyPackages: 4 });
  await MlsDevice.create(server, ben, directory, { keyPackages: 2 });
});
afterAll(async () => {
  await server?.stop();
});

describe('not connected', () => {
  it('another organisation is invisible: directory, conversations, key packages, device keys and key log', async () => {
    expect((await search(annDevice, 'bea')).map((p) => p.accountId)).toEqual([]);
    expectError(await annDevice.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'direct', memberAccountIds: [bea.id] }), 'NOT_FOUND');
    expectError(await annDevice.claim([bea.id]), 'NOT_FOUND');
    expectError(await annDevice.client.get(`/api/v1/keys/devices/${beaDevice.deviceId}`), 'NOT_FOUND');
    expectError(await annDevice.client.get(`/api/v1/keys/log?organisationId=${bravo.id}`), 'NOT_FOUND');
    expectError(await annDevice.client.get(`/api/v1/keys/proofs/inclusion?index=0&size=1&organisationId=${bravo.id}`), 'NOT_FOUND');
  });
});

describe('proposing and accepting', () => {
  it('an admin proposes by slug; only an admin of the invited organisation accepts', async () => {
    const a = admins.get(alpha.id)!;
    expectError(await a.post('/api/v1/org/connections', { organisation: 'no-such-org' }), 'NOT_FOUND');
    expectError(await a.post('/api/v1/org/connections', { organisation: alpha.slug }), 'VALIDATION_FAILED');
    expectError(await annDevice.client.post('/api/v1/org/connections', { organisation: bravo.slug }), 'FORBIDDEN');
    const proposed = await a.post<OrgConnection>('/api/v1/org/connections', { organisation: bravo.slug });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(200);
    expect(proposed.body).toMatchObject({ status: 'proposed', direction: 'outgoing', peer: { id: bravo.id, slug: bravo.slug } });
    connectionId = proposed.body.id;
    // A second proposal, from either side, while one is open.
    expectError(await admins.get(bravo.id)!.post('/api/v1/org/connections', { organisation: alpha.id }), 'CONFLICT');
    // The proposer cannot accept its own proposal; a third organisation does not see it at all.
    expectError(await a.post(`/api/v1/org/connections/${connectionId}/accept`, {}), 'FORBIDDEN');
    expectError(await admins.get(charlie.id)!.post(`/api/v1/org/connections/${connectionId}/accept`, {}), 'NOT_FOUND');
    expectError(await admins.get(charlie.id)!.delete(`/api/v1/org/connections/${connectionId}`), 'NOT_FOUND');
    expect((await admins.get(charlie.id)!.get<OrgConnectionList>('/api/v1/org/connections')).body.connections).toEqual([]);
    // Proposed is not connected yet.
    expect(await search(annDevice, 'bea')).toEqual([]);
    const incoming = (await admins.get(bravo.id)!.get<OrgConnectionList>('/api/v1/org/connections')).body.connections;
    expect(incoming.map((c) => [c.id, c.direction, c.status, c.peer.id])).toEqual([[connectionId, 'incoming', 'proposed', alpha.id]]);
    const accepted = await admins.get(bravo.id)!.post<OrgConnection>(`/api/v1/org/connections/${connectionId}/accept`, {});
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.status).toBe('active');
    expectError(await admins.get(bravo.id)!.post(`/api/v1/org/connections/${connectionId}/accept`, {}), 'CONFLICT');
  });
});

describe('connected', () => {
  it("the directory shows the other organisation's verified colleagues only, labelled", async () => {
    const people = await search(annDevice);
    const bravoPeople = people.filter((p) => p.organisation);
    expect(bravoPeople.map((p) => p.accountId)).toEqual([bea.id]);
    expect(bravoPeople[0]!.organisation).toEqual({ id: bravo.id, name: bravo.name });
    expect(people.map((p) => p.accountId)).not.toContain(ben.id);
    expect(people.map((p) => p.accountId)).not.toContain(cat.id);
    // Own colleagues carry no label; Bravo sees Alpha's verified people only (Ann is unverified).
    expect(people.find((p) => p.accountId === alphaAdmin.id)?.organisation).toBeUndefined();
    expect((await search(beaDevice)).filter((p) => p.organisation)).toEqual([]);
  });

  it('a direct conversation works end to end; unverified people stay out', async () => {
    expectError(await annDevice.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'direct', memberAccountIds: [ben.id] }), 'NOT_FOUND');
    expectError(await annDevice.claim([ben.id]), 'NOT_FOUND');
    const id = await annDevice.createConversation('direct', [bea.id]);
    expect(await beaDevice.joinWelcomes()).toEqual([id]);
    await annDevice.send(id, 'hello across');
    await beaDevice.send(id, 'hello back');
    // Each device's own message comes back as its own (no text to decrypt); the other's decrypts.
    expect((await beaDevice.receive(id)).flatMap((m) => (m.text === undefined ? [] : [m.text]))).toEqual(['hello across']);
    expect((await annDevice.receive(id)).flatMap((m) => (m.text === undefined ? [] : [m.text]))).toEqual(['hello back']);
    directConversation = id;
  });

  it("a colleague's device key is checked against their own organisation's key log", async () => {
    await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
    const entries = await annDevice.client.get(`/api/v1/keys/devices/${beaDevice.deviceId}`);
    expect(entries.status, JSON.stringify(entries.body)).toBe(200);
    expect(entries.body.logId).toBe(`keys/${bravo.id}`);
    const log = await annDevice.client.get(`/api/v1/keys/log?organisationId=${bravo.id}`);
    expect(log.body.logId).toBe(`keys/${bravo.id}`);
    const { checkpoint } = openCheckpoint(log.body.checkpoint, [parseVerifierKey(log.body.verifierKey)], log.body.origin);
    const [entry] = entries.body.entries as { index: number; leaf: string }[];
    const proof = await annDevice.client.get(`/api/v1/keys/proofs/inclusion?index=${entry!.index}&size=${checkpoint.size}&organisationId=${bravo.id}`);
    expect(proof.status).toBe(200);
    expect(verifyInclusion(hashLeaf(new TextEncoder().encode(entry!.leaf)), entry!.index, checkpoint.size, (proof.body.proof as string[]).map(fromB64), checkpoint.rootHash)).toBe(true);
    expect(JSON.parse(entry!.leaf)).toMatchObject({ type: 'device.added', entity: { id: beaDevice.deviceId }, detail: { signaturePublicKey: Buffer.from(beaDevice.identity.signaturePublicKey).toString('base64') } });
    // Charlie is not connected to Bravo: its log stays closed to Charlie's members.
    expectError(await catDevice.client.get(`/api/v1/keys/log?organisationId=${bravo.id}`), 'NOT_FOUND');
  });

  it('a group spans only organisations connected pairwise', async () => {
    // Alpha also connects with Charlie; Bravo and Charlie are not connected.
    const proposed = await admins.get(charlie.id)!.post<OrgConnection>('/api/v1/org/connections', { organisation: alpha.id });
    expect((await admins.get(alpha.id)!.post(`/api/v1/org/connections/${proposed.body.id}/accept`, {})).status).toBe(200);
    const group = crypto.randomUUID();
    expectError(await annDevice.client.post('/api/v1/conversations', { id: group, kind: 'group', memberAccountIds: [bea.id, cat.id] }), 'FORBIDDEN');
    const id = await annDevice.createConversation('group', [bea.id]);
    expectError(await annDevice.client.post(`/api/v1/conversations/${id}/members`, { accountIds: [cat.id] }), 'FORBIDDEN');
  });

  it('admin views, members and audit stay per organisation', async () => {
    const a = admins.get(alpha.id)!;
    const members = (await a.get('/api/v1/org/members')).body.members.map((m: { id: string }) => m.id);
    expect(members).not.toContain(bea.id);
    expectError(await a.get(`/api/v1/org/members/${bea.id}`), 'NOT_FOUND');
    // Alpha's log holds the connection steps (whoever took them), but nothing else of Bravo's: not Ben's sign-in.
    const audit = await a.get('/api/v1/audit/entries?limit=500');
    expect(audit.status, JSON.stringify(audit.body)).toBe(200);
    expect(JSON.stringify(audit.body)).toContain('org.connection_accepted');
    expect(JSON.stringify(audit.body)).not.toContain(ben.id);
  });
});

let directConversation = '';

describe('ended', () => {
  it('either side ends it; nothing new crosses; both audit logs tell', async () => {
    expect((await search(annDevice, 'bea')).map((p) => p.accountId)).toEqual([bea.id]);
    const ended = await admins.get(alpha.id)!.delete<OrgConnection>(`/api/v1/org/connections/${connectionId}`);
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body.status).toBe('ended');
    expectError(await admins.get(bravo.id)!.delete(`/api/v1/org/connections/${connectionId}`), 'CONFLICT');
    expect(await search(annDevice, 'bea')).toEqual([]);
    expectError(await annDevice.client.post('/api/v1/conversations', { id: crypto.randomUUID(), kind: 'group', memberAccountIds: [bea.id] }), 'NOT_FOUND');
    expectError(await annDevice.claim([bea.id]), 'NOT_FOUND');
    expectError(await annDevice.submit(directConversation, await annDevice.encrypt(directConversation, 'after the end')), 'FORBIDDEN');
    expectError(await beaDevice.submit(directConversation, await beaDevice.encrypt(directConversation, 'after the end')), 'FORBIDDEN');
    expectError(await annDevice.client.get(`/api/v1/keys/log?organisationId=${bravo.id}`), 'NOT_FOUND');
    const expected = (peer: string) => [
      { type: 'org.connection_proposed', peer },
      { type: 'org.connection_accepted', peer },
      { type: 'org.connection_ended', peer },
    ];
    expect(await auditTypes(bravo.id)).toEqual(expected(alpha.id));
    expect((await auditTypes(alpha.id)).filter((e) => e.peer === bravo.id)).toEqual(expected(bravo.id));
    // A new proposal may follow an ended connection.
    expect((await admins.get(bravo.id)!.post('/api/v1/org/connections', { organisation: alpha.slug })).status).toBe(200);
  });
});
