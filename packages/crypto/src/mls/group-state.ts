import type { ClientState } from 'ts-mls';
import type { CredentialValidator } from './credential-policy.js';
import { MlsError } from './errors.js';
import { parseDeviceCredential, type DeviceRef } from './identity.js';
import { isSuiteName, type SuiteName } from './suites.js';

/**
 * An opaque, immutable handle on one epoch of one device's view of a group. Each operation
 * returns a new handle and retires the one it was given: ts-mls's states are plain values, and
 * a reused one silently re-sends with a consumed key (receivers reject it) or, after its
 * consumed secrets are zeroed, encrypts garbage. Using a retired handle throws STALE_STATE.
 * To recover from a failed save, reopen the last saved state (state-store.ts) instead.
 */
export interface GroupState {
  /** The conversation id bytes the group was created with. */
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly suite: SuiteName;
  /** False once a commit removed this device; such a state can only be inspected. */
  readonly active: boolean;
}

export interface GroupMember extends DeviceRef {
  readonly leafIndex: number;
  readonly signaturePublicKey: Uint8Array;
  /** This device's own leaf. */
  readonly self: boolean;
}

/** A commit we sent whose fate the Delivery Service has not told us yet. */
export interface PendingCommitInfo {
  readonly previous: GroupState;
  readonly consumed: Uint8Array[];
}

interface Entry {
  readonly client: ClientState;
  readonly validate: CredentialValidator;
  readonly pending: PendingCommitInfo | undefined;
}

const entries = new WeakMap<GroupState, Entry>();
const retired = new WeakSet<GroupState>();
/** States a pending commit was made from: frozen until the commit is confirmed or discarded. */
const locked = new WeakSet<GroupState>();

export function wrapState(client: ClientState, validate: CredentialValidator, pending?: PendingCommitInfo): GroupState {
  const suite = client.groupContext.cipherSuite;
  if (!isSuiteName(suite)) throw new MlsError('UNSUPPORTED_SUITE', `group uses ciphersuite ${suite}`);
  const handle: GroupState = Object.freeze({
    groupId: client.groupContext.groupId.slice(),
    epoch: client.groupContext.epoch,
    suite,
    active: client.groupActiveState.kind === 'active',
  });
  entries.set(handle, { client, validate, pending });
  return handle;
}

/**
 * The ts-mls state behind a handle, for an operation. Throws STALE_STATE for a retired
 * handle, and COMMIT_PENDING both for the result of a commit not yet confirmed and for the
 * state it was made from (unless `allowPending`, for saving and inspection).
 */
export function useState(state: GroupState, options: { allowPending?: boolean } = {}): Entry {
  const entry = entries.get(state);
  if (entry === undefined) throw new MlsError('INVALID_ARGUMENT', 'not a group state made by this library');
  if (retired.has(state)) throw new MlsError('STALE_STATE', 'this group state was replaced by a newer one');
  if ((entry.pending !== undefined || locked.has(state)) && options.allowPending !== true) {
    throw new MlsError('COMMIT_PENDING', 'confirm or discard the pending commit first');
  }
  return entry;
}

export function lock(state: GroupState): void {
  locked.add(state);
}

export function unlock(state: GroupState): void {
  locked.delete(state);
}

/** Read-only access that also works on retired handles (inspection never touches secrets). */
export function peekState(state: GroupState): ClientState {
  const entry = entries.get(state);
  if (entry === undefined) throw new MlsError('INVALID_ARGUMENT', 'not a group state made by this library');
  return entry.client;
}

export function retire(state: GroupState): void {
  retired.add(state);
}

export function isRetired(state: GroupState): boolean {
  return retired.has(state);
}

/** Marks a pending state confirmed: same ts-mls state, new handle with no pending mark. */
export function settle(state: GroupState): { confirmed: GroupState; pending: PendingCommitInfo } {
  const entry = useState(state, { allowPending: true });
  if (entry.pending === undefined) throw new MlsError('INVALID_ARGUMENT', 'this state has no pending commit');
  retire(state);
  return { confirmed: wrapState(entry.client, entry.validate), pending: entry.pending };
}

export function pendingOf(state: GroupState): PendingCommitInfo | undefined {
  return entries.get(state)?.pending;
}

/** Members by leaf, in leaf order. Leaves whose credential does not parse are left out. */
export function membersOf(client: ClientState): GroupMember[] {
  const members: GroupMember[] = [];
  client.ratchetTree.forEach((node, nodeIndex) => {
    if (node?.nodeType !== 'leaf') return;
    let device: DeviceRef;
    try {
      device = parseDeviceCredential(node.leaf.credential);
    } catch {
      return; // cannot be in a group we validated; skip rather than crash a member list
    }
    const leafIndex = nodeIndex / 2;
    members.push({
      ...device,
      leafIndex,
      signaturePublicKey: node.leaf.signaturePublicKey,
      self: leafIndex === client.privatePath.leafIndex,
    });
  });
  return members;
}

export function groupMembers(state: GroupState): GroupMember[] {
  return membersOf(peekState(state));
}
