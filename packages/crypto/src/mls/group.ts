import {
  createCommit,
  createGroup as createMlsGroup,
  generateKeyPackageWithKey,
  joinGroup as joinMlsGroup,
  makePskIndex,
  emptyPskIndex,
  type ClientState,
  type CreateCommitResult,
  type Proposal,
} from 'ts-mls';
import { bytesEqual, zeroize } from './bytes.js';
import { credentialCheck, type CredentialValidator } from './credential-policy.js';
import { MlsError, type MlsErrorCode } from './errors.js';
import { lock, membersOf, pendingOf, retire, settle, unlock, useState, wrapState, type GroupState } from './group-state.js';
import { assertIdentityFitsSuite, sameDevice, type DeviceIdentity, type DeviceRef } from './identity.js';
import {
  assertKeyPackageUsable,
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
  inspectKeyPackage,
  KEY_PACKAGE_CLOCK_SKEW_SECONDS,
  keyPackageCapabilities,
  keyPackageForWelcome,
  privatePackageFor,
  type KeyPackageSecret,
} from './key-packages.js';
import { loadSuite, type SuiteName } from './suites.js';
import { decodeKeyPackage, decodeWelcome, encodeMessage, encodeWelcome } from './wire.js';

/**
 * What a commit produces. `newState` is PENDING: save it (beside the current state, not over
 * it) before sending `commit`, then tell us what the Delivery Service said:
 *  - accepted: `confirmCommit(newState)`; the old state's consumed secrets are zeroed;
 *  - refused because another commit won the epoch: `discardCommit(newState)` gives back the
 *    previous state; process the winning commit with it and retry.
 * Until then both states refuse to encrypt or process (COMMIT_PENDING), so nothing is sent in
 * an epoch the rest of the group may never enter and the previous state cannot fork. Messages
 * of the previous epoch that arrive meanwhile can wait: the confirmed state still decrypts
 * application messages of the last few epochs (ts-mls keeps 4).
 */
export interface CommitResult {
  readonly newState: GroupState;
  /** MLSMessage (PrivateMessage) for the whole group, through the Delivery Service. */
  readonly commit: Uint8Array;
  /** MLSMessage (Welcome, with the ratchet tree) for the added devices; undefined if none. */
  readonly welcome: Uint8Array | undefined;
  readonly welcomeRecipients: readonly DeviceRef[];
}

export interface JoinResult {
  readonly state: GroupState;
  /** The key package the Welcome used. Forget it (forgetKeyPackage) unless it is last-resort. */
  readonly keyPackage: KeyPackageSecret;
}

/** Creates a group with this device as its only member, at epoch 0. */
export async function createGroup(options: {
  identity: DeviceIdentity;
  groupId: Uint8Array;
  validateCredential: CredentialValidator;
  suite?: SuiteName;
}): Promise<GroupState> {
  const { identity, groupId } = options;
  const suite = options.suite ?? identity.suite;
  if (groupId.length === 0 || groupId.length > 255) {
    throw new MlsError('INVALID_ARGUMENT', 'groupId must be 1..255 bytes');
  }
  assertIdentityFitsSuite(identity, suite);
  const impl = await loadSuite(suite);
  const now = Math.floor(Date.now() / 1000);
  // The creator's leaf comes from a key package that is never published.
  const own = await generateKeyPackageWithKey(
    identity.credential,
    keyPackageCapabilities(suite),
    {
      notBefore: BigInt(now - KEY_PACKAGE_CLOCK_SKEW_SECONDS),
      notAfter: BigInt(now + DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS),
    },
    [],
    { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
    impl,
  );
  const check = credentialCheck(options.validateCredential);
  try {
    const client = await createMlsGroup(groupId.slice(), own.publicPackage, own.privatePackage, [], impl, check.clientConfig);
    return wrapState(client, options.validateCredential);
  } catch (err) {
    throw check.toError(err, 'INVALID_ARGUMENT');
  } finally {
    zeroize(own.privatePackage.initPrivateKey); // no Welcome will ever be sealed to it
  }
}

/**
 * Joins from a Welcome addressed to one of our key packages. Every leaf of the group's tree
 * and the Welcome's signer go through `validateCredential`.
 */
export async function joinGroup(options: {
  identity: DeviceIdentity;
  keyPackages: readonly KeyPackageSecret[];
  welcome: Uint8Array;
  validateCredential: CredentialValidator;
  /** Refuse a Welcome into any other group (the conversation the server says this is). */
  expectedGroupId?: Uint8Array;
}): Promise<JoinResult> {
  const welcome = decodeWelcome(options.welcome);
  const secret = keyPackageForWelcome(options.keyPackages, welcome);
  if (secret === undefined) throw new MlsError('UNKNOWN_KEY_PACKAGE', 'the Welcome is for none of our key packages');
  const { keyPackage, privatePackage } = privatePackageFor(options.identity, secret);
  const impl = await loadSuite(secret.suite);
  const check = credentialCheck(options.validateCredential);
  let client: ClientState;
  try {
    // No ratchetTree argument: Welcomes we accept carry the ratchet_tree extension.
    client = await joinMlsGroup(welcome, keyPackage, privatePackage, emptyPskIndex, impl, undefined, undefined, check.clientConfig);
  } catch (err) {
    zeroize(privatePackage.hpkePrivateKey);
    throw check.toError(err, 'INVALID_MESSAGE');
  } finally {
    zeroize(privatePackage.initPrivateKey); // our copy; the stored one goes with forgetKeyPackage
  }
  const state = wrapState(client, options.validateCredential);
  if (options.expectedGroupId !== undefined && !bytesEqual(state.groupId, options.expectedGroupId)) {
    retire(state);
    throw new MlsError('INVALID_MESSAGE', 'the Welcome is for another group');
  }
  return { state, keyPackage: secret };
}

/**
 * Adds devices by their key packages (encoded MLSMessages as fetched from the server). Each is
 * verified, must be of the group's suite, inside its lifetime, and accepted by the validator.
 */
export async function addMembers(state: GroupState, keyPackages: readonly Uint8Array[]): Promise<CommitResult> {
  const { client } = useState(state);
  if (keyPackages.length === 0) throw new MlsError('INVALID_ARGUMENT', 'no key packages to add');
  const present = membersOf(client);
  const proposals: Proposal[] = [];
  const recipients: DeviceRef[] = [];
  for (const bytes of keyPackages) {
    const keyPackage = decodeKeyPackage(bytes);
    const info = await inspectKeyPackage(keyPackage, { verify: false }); // ts-mls verifies both signatures
    if (info.suite !== state.suite) {
      throw new MlsError('KEY_PACKAGE_INVALID', `key package is for ${info.suite}, the group uses ${state.suite}`);
    }
    assertKeyPackageUsable(info);
    if (present.some((m) => sameDevice(m, info)) || recipients.some((r) => sameDevice(r, info))) {
      throw new MlsError('INVALID_ARGUMENT', `${info.userId}/${info.deviceId} is already in the group`);
    }
    proposals.push({ proposalType: 'add', add: { keyPackage } });
    recipients.push({ userId: info.userId, deviceId: info.deviceId });
  }
  return commit(state, proposals, recipients, 'KEY_PACKAGE_INVALID');
}

/** Removes every leaf of the named devices. A device cannot remove itself this way. */
export async function removeMembers(state: GroupState, devices: readonly DeviceRef[]): Promise<CommitResult> {
  const { client } = useState(state);
  if (devices.length === 0) throw new MlsError('INVALID_ARGUMENT', 'no devices to remove');
  const members = membersOf(client);
  const proposals: Proposal[] = [];
  for (const device of devices) {
    const leaves = members.filter((m) => sameDevice(m, device));
    if (leaves.length === 0) throw new MlsError('NOT_A_MEMBER', `${device.userId}/${device.deviceId} is not in the group`);
    if (leaves.some((m) => m.self)) throw new MlsError('INVALID_ARGUMENT', 'a device cannot remove itself');
    for (const m of leaves) proposals.push({ proposalType: 'remove', remove: { removed: m.leafIndex } });
  }
  return commit(state, proposals, [], 'INVALID_ARGUMENT');
}

/**
 * Commits any proposals other members sent and refreshes this device's path keys
 * (post-compromise security). Same pending/confirm protocol as every commit.
 */
export async function commitUpdate(state: GroupState): Promise<CommitResult> {
  return commit(state, [], [], 'INVALID_MESSAGE');
}

async function commit(
  state: GroupState,
  proposals: Proposal[],
  welcomeRecipients: DeviceRef[],
  fallback: MlsErrorCode,
): Promise<CommitResult> {
  const { client, validate } = useState(state);
  if (!state.active) throw new MlsError('NOT_A_MEMBER', 'this device was removed from the group');
  const impl = await loadSuite(state.suite);
  const check = credentialCheck(validate);
  let result: CreateCommitResult;
  try {
    result = await createCommit(
      { state: { ...client, clientConfig: check.clientConfig }, cipherSuite: impl, pskIndex: makePskIndex(client, {}) },
      // Private handshakes hide who adds or removes whom from the server; the Welcome carries
      // the tree so joiners need nothing else from the Delivery Service.
      { extraProposals: proposals, ratchetTreeExtension: true, wireAsPublicMessage: false },
    );
  } catch (err) {
    throw check.toError(err, fallback);
  }
  lock(state);
  return {
    newState: wrapState(result.newState, validate, { previous: state, consumed: result.consumed }),
    commit: encodeMessage(result.commit),
    welcome: result.welcome === undefined ? undefined : encodeWelcome(result.welcome),
    welcomeRecipients,
  };
}

/**
 * The Delivery Service accepted the commit: zero what the previous epoch's state held that the
 * commit consumed, retire the previous state, and return the confirmed state (same contents as
 * the pending one, so what you saved need not be saved again; just make it current).
 */
export function confirmCommit(pendingState: GroupState): GroupState {
  const { confirmed, pending } = settle(pendingState);
  unlock(pending.previous);
  retire(pending.previous);
  zeroize(...pending.consumed);
  return confirmed;
}

/** The Delivery Service refused the commit: drop the pending state, keep using the previous one. */
export function discardCommit(pendingState: GroupState): GroupState {
  useState(pendingState, { allowPending: true });
  const pending = pendingOf(pendingState);
  if (pending === undefined) throw new MlsError('INVALID_ARGUMENT', 'this state has no pending commit');
  retire(pendingState);
  unlock(pending.previous);
  return pending.previous;
}
