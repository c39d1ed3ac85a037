import { createApplicationMessage, makePskIndex, processPrivateMessage, type ClientState, type ProcessMessageResult } from 'ts-mls';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import { bytesEqual, zeroize } from './bytes.js';
import { credentialCheck } from './credential-policy.js';
import { MlsError, toMlsError } from './errors.js';
import { membersOf, retire, useState, wrapState, type GroupMember, type GroupState } from './group-state.js';
import { parseDeviceCredential, sameDevice, type DeviceRef } from './identity.js';
import { loadSuite } from './suites.js';
import { decodePrivateMessage, encodePrivateMessage } from './wire.js';

/** The member that sent a message, as of the epoch it was sent in. */
export interface MessageSender extends DeviceRef {
  readonly leafIndex: number;
}

export type ProcessedMessage =
  | {
      readonly kind: 'application';
      readonly newState: GroupState;
      readonly plaintext: Uint8Array;
      readonly sender: MessageSender;
      /** The epoch it was encrypted in (may be a recent past epoch). */
      readonly epoch: bigint;
    }
  | {
      readonly kind: 'commit';
      readonly newState: GroupState;
      readonly sender: MessageSender;
      /** The epoch the group is in after the commit (unchanged if it removed this device). */
      readonly epoch: bigint;
      readonly added: readonly DeviceRef[];
      readonly removed: readonly DeviceRef[];
      /** This device was removed: `newState.active` is false and it can no longer read the group. */
      readonly removedSelf: boolean;
    }
  | {
      /** Stored until someone commits it; sending application messages waits for that commit. */
      readonly kind: 'proposal';
      readonly newState: GroupState;
      readonly sender: MessageSender;
    };

/**
 * Encrypts an application message. Save `newState` BEFORE sending `message`: if the app
 * crashes after sending with the old state saved, it would later reuse the same sender
 * generation, which receivers reject (and which reuses a key). The consumed key is zeroed.
 */
export async function encryptMessage(
  state: GroupState,
  plaintext: Uint8Array,
): Promise<{ newState: GroupState; message: Uint8Array }> {
  const { client, validate } = useState(state);
  assertCanSend(state, client);
  const impl = await loadSuite(state.suite);
  const check = credentialCheck(validate);
  let result: Awaited<ReturnType<typeof createApplicationMessage>>;
  try {
    result = await createApplicationMessage({ ...client, clientConfig: check.clientConfig }, plaintext, impl);
  } catch (err) {
    throw check.toError(err, 'INTERNAL');
  }
  const message = encodePrivateMessage(result.privateMessage);
  retire(state);
  zeroize(...result.consumed);
  return { newState: wrapState(result.newState, validate), message };
}

/**
 * Processes one message from the Delivery Service for this group: an application message,
 * a proposal, or a commit of another member. Save `newState` before acknowledging the message.
 * Do not feed back this device's own messages: its own application messages fail with
 * REPLAYED_MESSAGE and its own commits with WRONG_EPOCH.
 */
export async function processMessage(state: GroupState, bytes: Uint8Array): Promise<ProcessedMessage> {
  const { client, validate } = useState(state);
  if (!state.active) throw new MlsError('NOT_A_MEMBER', 'this device was removed from the group');
  const message = decodePrivateMessage(bytes);
  if (!bytesEqual(message.groupId, client.groupContext.groupId)) {
    throw new MlsError('INVALID_MESSAGE', 'message is for another group');
  }
  const sender = await senderOf(client, message, state.suite);
  const impl = await loadSuite(state.suite);
  const check = credentialCheck(validate);
  let result: ProcessMessageResult;
  try {
    result = await processPrivateMessage(
      { ...client, clientConfig: check.clientConfig },
      message,
      makePskIndex(client, {}),
      impl,
    );
  } catch (err) {
    throw check.toError(err, 'INVALID_MESSAGE');
  }
  const newState = wrapState(result.newState, validate);
  retire(state);
  zeroize(...result.consumed);
  if (result.kind === 'applicationMessage') {
    return { kind: 'application', newState, plaintext: result.message, sender, epoch: message.epoch };
  }
  if (message.contentType === 'proposal') return { kind: 'proposal', newState, sender };
  const before = membersOf(client);
  const after = membersOf(result.newState);
  return {
    kind: 'commit',
    newState,
    sender,
    epoch: newState.epoch,
    added: after.filter((m) => !before.some((b) => sameDevice(b, m))).map(deviceOf),
    removed: before.filter((b) => !after.some((m) => sameDevice(b, m))).map(deviceOf),
    removedSelf: !newState.active,
  };
}

function assertCanSend(state: GroupState, client: ClientState): void {
  if (!state.active) throw new MlsError('NOT_A_MEMBER', 'this device was removed from the group');
  if (Object.keys(client.unappliedProposals).length > 0) {
    throw new MlsError('COMMIT_REQUIRED', 'commit the pending proposals (commitUpdate) before sending');
  }
}

/**
 * Finds the sender before ts-mls processes the message (its result does not say who sent an
 * application message), and checks the epoch from the clear header so a stale or early
 * message gets WRONG_EPOCH rather than ts-mls's generic errors. The sender data is AEAD-
 * protected and ts-mls then verifies the content signature against that leaf's key.
 */
async function senderOf(
  client: ClientState,
  message: ReturnType<typeof decodePrivateMessage>,
  suite: GroupState['suite'],
): Promise<MessageSender> {
  const current = client.groupContext.epoch;
  if (message.epoch > current || (message.contentType !== 'application' && message.epoch !== current)) {
    throw new MlsError('WRONG_EPOCH', `message for epoch ${message.epoch}, group is at epoch ${current}`);
  }
  const epochData =
    message.epoch === current
      ? { senderDataSecret: client.keySchedule.senderDataSecret, ratchetTree: client.ratchetTree }
      : client.historicalReceiverData.get(message.epoch);
  if (epochData === undefined) {
    throw new MlsError('WRONG_EPOCH', `keys of epoch ${message.epoch} are no longer kept (group is at ${current})`);
  }
  const impl = await loadSuite(suite);
  let senderData: Awaited<ReturnType<typeof decryptSenderData>>;
  try {
    senderData = await decryptSenderData(message, epochData.senderDataSecret, impl);
  } catch (err) {
    throw toMlsError(err, 'INVALID_MESSAGE');
  }
  const leaf = senderData === undefined ? undefined : epochData.ratchetTree[senderData.leafIndex * 2];
  if (senderData === undefined || leaf?.nodeType !== 'leaf') {
    throw new MlsError('INVALID_MESSAGE', 'sender is not a member of that epoch');
  }
  return { ...parseDeviceCredential(leaf.leaf.credential), leafIndex: senderData.leafIndex };
}

const deviceOf = (m: GroupMember): DeviceRef => ({ userId: m.userId, deviceId: m.deviceId });
