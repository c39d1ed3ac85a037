import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeviceIdentity, hashLeaf, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from '@consilium/crypto';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { checkpointLogs } from '../audit/checkpointer.js';

let server: TestServer;
let org: SeededOrg;
let other: SeededOrg;

beforeAll(async () => {
  server = await startTestServer();
  org = await seedOrg(server, 'Key Hospital');
  other = await seedOrg(server, 'Other Key Hospital');
});
afterAll(() => server.stop());

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

async function registerDevice(client: TestClient, accountId: string) {
  const deviceId = crypto.randomUUID();
  const identity = await createDeviceIdentity({ userId: accountId, deviceId });
  const r = await client.post('/api/v1/devices', { deviceId, name: 'Ward laptop', ciphersuite: 1, signaturePublicKey: b64(identity.signaturePublicKey) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { deviceId, key: b64(identity.signaturePublicKey) };
}

/** What a client does before trusting a colleague's device key. */
async function checkDeviceKey(client: TestClient, deviceId: string) {
  const log = (await client.get('/api/v1/keys/log')).body;
  const { checkpoint } = openCheckpoint(log.checkpoint, [parseVerifierKey(log.verifierKey)], log.origin);
  const { entries } = (await client.get(`/api/v1/keys/devices/${deviceId}`)).body;
  const results = [];
  for (const entry of entries as { index: number; leaf: string }[]) {
    const proof = (await client.get(`/api/v1/keys/proofs/inclusion?index=${entry.index}&size=${checkpoint.size}`)).body;
    const leafHash = hashLeaf(new TextEncoder().encode(entry.leaf));
    results.push({
      included: verifyInclusion(leafHash, entry.index, checkpoint.size, proof.proof.map(fromB64), checkpoint.rootHash),
      leaf: JSON.parse(entry.leaf),
    });
  }
  return { checkpoint, results };
}

const secrets = new Map<string, string>();

/** A fresh session (a new browser) for the account; the first one enrols TOTP. */
async function session(email: string): Promise<TestClient> {
  const r = await signIn(server, email, secrets.get(email));
  secrets.set(email, r.totpSecret);
  return r.client;
}

describe('key transparency for device keys', () => {
  it('commits a registered device key to the organisation key log; a colleague verifies its inclusion', async () => {
    const alice = await session(org.admin.email);
    const bob = await session(org.clinician.email);
    const device = await registerDevice(alice, org.admin.id);
    await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());

    const { results } = await checkDeviceKey(bob, device.deviceId);
    expect(results).toHaveLength(1);
    expect(results[0]!.included).toBe(true);
    expect(results[0]!.leaf.type).toBe('device.added');
    expect(results[0]!.leaf.actor.accountId).toBe(org.admin.id);
    expect(results[0]!.leaf.detail.signaturePublicKey).toBe(device.key);
  });

  it('a key swapped in the stored leaf no longer proves inclusion', async () => {
    const carol = await session(other.clinician.email);
    const device = await registerDevice(carol, other.clinician.id);
    await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
    // The server (or someone with its database) swaps the key in the leaf behind the log's back.
    const forged = b64(crypto.getRandomValues(new Uint8Array(32)));
    const rows = await server.deps.db.selectFrom('audit_entry').select(['log_id', 'idx', 'leaf']).where('log_id', '=', `keys/${other.id}`).execute();
    const row = rows.find((r) => r.leaf.includes(device.deviceId))!;
    await server.deps.db.updateTable('audit_entry').set({ leaf: row.leaf.replace(device.key, forged) }).where('log_id', '=', row.log_id).where('idx', '=', row.idx).execute();

    const { results } = await checkDeviceKey(await session(other.admin.email), device.deviceId);
    expect(results[0]!.leaf.detail.signaturePublicKey).toBe(forged);
    expect(results[0]!.included).toBe(false);
  });

  it('a revocation is appended, and the key log stays consistent with the checkpoint seen before', async () => {
    const owner = await session(org.clinician.email);
    const device = await registerDevice(owner, org.clinician.id);
    await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
    const viewer = await session(org.admin.email);
    const before = (await viewer.get('/api/v1/keys/log')).body;
    const old = openCheckpoint(before.checkpoint, [parseVerifierKey(before.verifierKey)], before.origin).checkpoint;

    expect((await owner.delete(`/api/v1/devices/${device.deviceId}`)).status).toBe(200);
    await checkpointLogs(server.deps.db, server.deps.auditKey, server.deps.now());
    const { checkpoint, results } = await checkDeviceKey(viewer, device.deviceId);
    expect(results.map((r) => r.leaf.type)).toEqual(['device.added', 'device.revoked']);
    expect(results.every((r) => r.included)).toBe(true);
    const proof = (await viewer.get(`/api/v1/keys/proofs/consistency?from=${old.size}&to=${checkpoint.size}`)).body;
    expect(verifyConsistency(old.size, checkpoint.size, proof.proof.map(fromB64), old.rootHash, checkpoint.rootHash)).toBe(true);
  });

  it('a device of another organisation is not found (404), and key logs are per organisation', async () => {
    const outsider = await session(other.admin.email);
    const owner = await session(org.admin.email);
    const device = await registerDevice(owner, org.admin.id);
    const r = await outsider.get(`/api/v1/keys/devices/${device.deviceId}`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    const mine = (await owner.get('/api/v1/keys/log')).body;
    const theirs = (await outsider.get('/api/v1/keys/log')).body;
    expect(mine.logId).toBe(`keys/${org.id}`);
    expect(theirs.logId).toBe(`keys/${other.id}`);
  });
});
