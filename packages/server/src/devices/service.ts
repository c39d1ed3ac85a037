import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { MAX_DEVICES_PER_ACCOUNT, MAX_UNCLAIMED_KEY_PACKAGES, type AttachDeviceBody, type ClaimedKeyPackages, type Device, type RegisterDeviceBody, type UploadKeyPackagesBody } from '@consilium/protocol';
import { isMlsError, MAX_KEY_PACKAGE_LIFETIME_SECONDS, readKeyPackage, SUITES, suiteById } from '@consilium/crypto';
import { ConsiliumError, notFound } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, recordKeyEvent, type Actor } from '../audit/record.js';
import { setChallenge, takeChallenge, type AuthenticatedSession } from '../sessions/service.js';
import { getAccount } from '../accounts/store.js';
import { keyLogIdFor } from '../audit/log.js';
import { catchUpIndex } from '../audit/indexer.js';
import { searchEntries } from '../audit/store.js';
import { mayMessageAcross } from '../orgs/connections.js';
import type { DeviceTable, KeyPackageTable } from '../db/schema/messaging.js';
import * as store from './store.js';

const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Devices of a suite sign with Ed25519 (both suites we offer do). */
function ed25519Key(raw: Uint8Array) {
  if (raw.length !== 32) throw new ConsiliumError('VALIDATION_FAILED', 'signature public key must be 32 bytes (Ed25519)');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The key-transparency leaf of a device key: whose it is, the key, and whether it was added or revoked. */
function keyEvent(deps: Deps, actor: Actor, type: 'device.added' | 'device.revoked', device: DeviceTable) {
  return auditEvent(deps, { ...actor, accountId: device.account_id }, type, type === 'device.added' ? 'C' : 'D', {
    entity: { type: 'device', id: device.id },
    detail: { signaturePublicKey: device.signature_public_key, ciphersuite: device.ciphersuite, ...(actor.accountId !== device.account_id && { by: actor.accountId }) },
  });
}

export function toDevice(row: DeviceTable, currentDeviceId: string | null, unclaimed: number): Device {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    ciphersuite: row.ciphersuite as Device['ciphersuite'],
    signaturePublicKey: row.signature_public_key,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
    current: row.id === currentDeviceId,
    unclaimedKeyPackages: unclaimed,
  };
}

/** Registers this browser's new MLS device and binds it to the session. */
export async function registerDevice(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: RegisterDeviceBody): Promise<Device> {
  if (auth.session.device_id) throw new ConsiliumError('CONFLICT', 'this session already speaks for a device');
  ed25519Key(fromB64(body.signaturePublicKey));
  if (await store.getDevice(deps.db, body.deviceId)) throw new ConsiliumError('CONFLICT', 'a device with this id exists');
  const active = (await store.listDevices(deps.db, auth.account.id)).filter((d) => !d.revoked_at);
  if (active.length >= MAX_DEVICES_PER_ACCOUNT) {
    throw new ConsiliumError('CONFLICT', `at most ${MAX_DEVICES_PER_ACCOUNT} active devices per person; revoke an old one first`);
  }
  const row: DeviceTable = {
    id: body.deviceId,
    account_id: auth.account.id,
    name: body.name,
    ciphersuite: body.ciphersuite,
    signature_public_key: body.signaturePublicKey,
    created_at: iso(deps.now()),
    last_seen_at: iso(deps.now()),
    revoked_at: null,
  };
  await inTransaction(deps, async (tx) => {
    await store.insertDevice(tx.db, row);
    await store.bindSessionToDevice(tx.db, auth.session.id, row.id);
    await recordAudit(tx, auditEvent(tx, actor, 'device.added', 'C', { entity: { type: 'device', id: row.id }, detail: { name: row.name, ciphersuite: row.ciphersuite } }));
    await recordKeyEvent(tx, auth.organisation.id, keyEvent(tx, actor, 'device.added', row));
  });
  return toDevice(row, row.id, 0);
}

export async function deviceChallenge(deps: Deps, auth: AuthenticatedSession): Promise<string> {
  const challenge = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  await setChallenge(deps, auth.session.id, challenge);
  return challenge;
}

export const attachMessage = (sessionId: string, challenge: string) => `consilium-device-attach:v1:${sessionId}:${challenge}`;

/** Binds an existing device to a new session, after it proves it holds the device's signature key. */
export async function attachDevice(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: AttachDeviceBody): Promise<Device> {
  const challenge = await takeChallenge(deps, auth.session, 'FORBIDDEN');
  const device = await store.getDevice(deps.db, body.deviceId);
  if (!device || device.account_id !== auth.account.id) throw notFound('device');
  if (device.revoked_at) throw new ConsiliumError('DEVICE_REVOKED', 'this device was revoked; register a new one');
  const ok = verifySignature(null, Buffer.from(attachMessage(auth.session.id, challenge)), ed25519Key(fromB64(device.signature_public_key)), Buffer.from(body.signature, 'base64'));
  if (!ok) throw new ConsiliumError('FORBIDDEN', 'the device signature does not verify');
  await inTransaction(deps, async (tx) => {
    await store.bindSessionToDevice(tx.db, auth.session.id, device.id);
    await store.touchDevice(tx.db, device.id, iso(tx.now()));
    await recordAudit(tx, auditEvent(tx, actor, 'device.attached', 'E', { entity: { type: 'device', id: device.id } }));
  });
  return toDevice(device, device.id, (await store.countUnclaimed(deps.db, device.id)).oneTime);
}

export async function listOwnDevices(deps: Deps, auth: AuthenticatedSession): Promise<Device[]> {
  const rows = await store.listDevices(deps.db, auth.account.id);
  return Promise.all(rows.map(async (r) => toDevice(r, auth.session.device_id, (await store.countUnclaimed(deps.db, r.id)).oneTime)));
}

/**
 * Revokes a device: its sessions end at once and the server stops delivering to it; the
 * remaining members' clients remove its leaves from each group with a commit.
 */
export async function revokeDevice(deps: Deps, actor: Actor, accountId: string, deviceId: string): Promise<void> {
  const device = await store.getDevice(deps.db, deviceId);
  if (!device || device.account_id !== accountId) throw notFound('device');
  await inTransaction(deps, async (tx) => {
    const now = iso(tx.now());
    if (!(await store.revokeDevice(tx.db, deviceId, now))) throw new ConsiliumError('CONFLICT', 'this device is already revoked');
    const sessions = await store.endDeviceSessions(tx.db, deviceId, now);
    await recordAudit(tx, auditEvent(tx, actor, 'device.revoked', 'D', { entity: { type: 'device', id: deviceId }, detail: { sessionsEnded: sessions } }));
    const owner = await getAccount(tx.db, device.account_id);
    await recordKeyEvent(tx, owner!.organisation_id, keyEvent(tx, actor, 'device.revoked', device));
  });
  deps.fanOut.publish([deviceId], { type: 'revoked' });
  await notifyPeers(deps, device.account_id);
}

/** The device bound to the session, which must be live: only a device uploads its own key packages or sends. */
export async function sessionDevice(deps: Deps, auth: AuthenticatedSession): Promise<DeviceTable> {
  const device = auth.session.device_id ? await store.getDevice(deps.db, auth.session.device_id) : undefined;
  if (!device) throw new ConsiliumError('DEVICE_REQUIRED', 'register or attach this browser as a device first');
  if (device.revoked_at) throw new ConsiliumError('DEVICE_REVOKED', 'this device was revoked');
  return device;
}

/**
 * Stores key packages after checking each one: both signatures (RFC 9420 §10.1), the credential
 * names this account and device, the signature key is the device's, the suite is the device's,
 * and the lifetime is finite and current.
 */
export async function uploadKeyPackages(deps: Deps, auth: AuthenticatedSession, body: UploadKeyPackagesBody) {
  const device = await sessionDevice(deps, auth);
  const now = deps.now();
  const counts = await store.countUnclaimed(deps.db, device.id);
  if (counts.oneTime + body.keyPackages.length > MAX_UNCLAIMED_KEY_PACKAGES) {
    throw new ConsiliumError('CONFLICT', `at most ${MAX_UNCLAIMED_KEY_PACKAGES} unclaimed key packages per device`);
  }
  const suite = suiteById(device.ciphersuite);
  const check = async (b64: string, lastResort: boolean): Promise<KeyPackageTable> => {
    let info;
    try {
      info = await readKeyPackage(fromB64(b64));
    } catch (err) {
      throw new ConsiliumError('VALIDATION_FAILED', `key package refused: ${isMlsError(err) ? err.message : 'not a key package'}`);
    }
    if (info.userId !== auth.account.id || info.deviceId !== device.id) throw new ConsiliumError('VALIDATION_FAILED', 'key package credential names another account or device');
    if (Buffer.from(info.signaturePublicKey).toString('base64') !== device.signature_public_key) throw new ConsiliumError('VALIDATION_FAILED', 'key package signature key is not the device key');
    if (info.suite !== suite) throw new ConsiliumError('VALIDATION_FAILED', `key package suite ${SUITES[info.suite].id} is not the device suite ${device.ciphersuite}`);
    if (info.lastResort !== lastResort) throw new ConsiliumError('VALIDATION_FAILED', lastResort ? 'lastResort must carry the last_resort extension' : 'a last-resort key package goes in lastResort');
    if (info.notAfter <= now || info.notAfter > addSeconds(now, MAX_KEY_PACKAGE_LIFETIME_SECONDS)) throw new ConsiliumError('VALIDATION_FAILED', 'key package lifetime is expired or too long');
    return { ref: info.ref, device_id: device.id, account_id: auth.account.id, data: b64, last_resort: lastResort ? 1 : 0, not_after: iso(info.notAfter), created_at: iso(now), claimed_at: null, claimed_by: null };
  };
  const rows: KeyPackageTable[] = [];
  for (const kp of body.keyPackages) rows.push(await check(kp, false));
  const lastResort = body.lastResort ? await check(body.lastResort, true) : null;
  await inTransaction(deps, async (tx) => {
    if (lastResort) {
      await store.retireLastResort(tx.db, device.id, iso(now));
      rows.push(lastResort);
    }
    await store.insertKeyPackages(tx.db, rows);
  });
  const after = await store.countUnclaimed(deps.db, device.id);
  // A device's first key packages make it joinable: the people it shares conversations with add it.
  if (counts.oneTime === 0 && !counts.lastResort && (await store.countClaimedEver(deps.db, device.id)) === 0) await notifyPeers(deps, device.account_id);
  return { unclaimed: after.oneTime, lastResort: after.lastResort };
}

/**
 * Tells the devices of everyone who shares a conversation with `accountId` (and its own other
 * devices) that its devices changed, so their clients add a new device's leaf or remove a revoked one.
 */
async function notifyPeers(deps: Deps, accountId: string): Promise<void> {
  const peers = await deps.db
    .selectFrom('conversation_member as mine')
    .innerJoin('conversation_member as theirs', 'theirs.conversation_id', 'mine.conversation_id')
    .innerJoin('device', 'device.account_id', 'theirs.account_id')
    .select('device.id')
    .distinct()
    .where('mine.account_id', '=', accountId)
    .where('mine.removed_at', 'is', null)
    .where('theirs.removed_at', 'is', null)
    .where('device.revoked_at', 'is', null)
    .execute();
  deps.fanOut.publish(
    peers.map((p) => p.id),
    { type: 'peers' },
  );
}

/** One key package for every active device of the named colleagues (same organisation). */
export async function claimKeyPackages(deps: Deps, auth: AuthenticatedSession, accountIds: string[], deviceIds?: string[]): Promise<ClaimedKeyPackages> {
  const only = deviceIds ? new Set(deviceIds) : null;
  const now = iso(deps.now());
  const result: ClaimedKeyPackages = { keyPackages: [], missing: [] };
  const unique = [...new Set(accountIds)];
  for (const accountId of unique) {
    const account = await getAccount(deps.db, accountId);
    if (!account || account.status !== 'active') throw notFound(`account ${accountId}`);
    // Another organisation's verified professional only while the two are connected (see orgs/connections.ts).
    if (account.organisation_id !== auth.organisation.id) {
      const reachable = account.role !== 'patient' && account.verification_level !== 'unverified' && (await mayMessageAcross(deps.db, auth.organisation.id, account.organisation_id));
      if (!reachable) throw notFound(`account ${accountId}`);
    }
  }
  for (const device of await store.activeDevicesOf(deps.db, unique)) {
    if (device.id === auth.session.device_id || (only && !only.has(device.id))) continue;
    const kp = await store.claimKeyPackage(deps.db, device.id, auth.account.id, now);
    if (kp) result.keyPackages.push({ accountId: device.account_id, deviceId: device.id, keyPackage: kp.data, lastResort: kp.lastResort });
    else result.missing.push({ accountId: device.account_id, deviceId: device.id });
  }
  return result;
}

/** More key events than any real account has (each device added or revoked is one). */
const KEY_EVENTS_MAX = 10_000;

/** A colleague's device key entries in the organisation's key log, for the client to check. */
export async function deviceKeyEntries(deps: Deps, auth: AuthenticatedSession, deviceId: string) {
  const device = await store.getDevice(deps.db, deviceId);
  const owner = device && (await getAccount(deps.db, device.account_id));
  if (!device || !owner || !(await mayMessageAcross(deps.db, auth.organisation.id, owner.organisation_id))) throw notFound('device');
  // The device key was logged in its owner's organisation's key log.
  const logId = keyLogIdFor(owner.organisation_id);
  await catchUpIndex(deps.db, deps.dbKind, logId);
  const rows = (await searchEntries(deps.db, logId, { actorAccountId: device.account_id }, KEY_EVENTS_MAX)).reverse();
  const entries = rows
    .filter((r) => (JSON.parse(r.leaf) as { entity?: { id?: string } }).entity?.id === deviceId)
    .map((r) => ({ index: Number(r.idx), leaf: r.leaf }));
  return { deviceId, accountId: device.account_id, logId, entries };
}

/**
 * Whose key log the caller may read: their own organisation's, or one it is actively connected to
 * (read-only, to check its members' device keys). Any other id reads as absent.
 */
export async function readableKeyLogOrganisation(deps: Deps, auth: AuthenticatedSession, organisationId: string | undefined): Promise<string> {
  if (!organisationId || organisationId === auth.organisation.id) return auth.organisation.id;
  if (!(await mayMessageAcross(deps.db, auth.organisation.id, organisationId))) throw notFound('key log');
  return organisationId;
}
