import { describe, expect, it } from 'vitest';
import {
  addMembers,
  commitUpdate,
  confirmCommit,
  createDeviceIdentity,
  createGroup,
  discardCommit,
  encryptMessage,
  forgetKeyPackage,
  generateKeyPackages,
  generateStateKey,
  groupMembers,
  isSuiteAvailable,
  joinGroup,
  openGroupState,
  POST_QUANTUM_SUITE,
  processMessage,
  removeMembers,
  sealGroupState,
  type CredentialValidator,
  type DeviceIdentity,
  type GroupState,
  type KeyPackageSecret,
  type MlsErrorCode,
  type SuiteName,
} from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const GROUP_ID = utf8('7d1c2c52-6f1e-4f43-9d52-3a3f4a1e0c11');

async function rejectsWith(promise: Promise<unknown>, code: MlsErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'MlsError', code });
}

/** Stands in for the directory / key-transparency check: (user, device) -> signature key. */
function directory() {
  const keys = new Map<string, string>();
  const validate: CredentialValidator = async (c) => keys.get(`${c.userId}/${c.deviceId}`) === hex(c.signaturePublicKey);
  return {
    validate,
    register: (d: DeviceIdentity) => keys.set(`${d.userId}/${d.deviceId}`, hex(d.signaturePublicKey)),
    revoke: (userId: string, deviceId: string) => keys.delete(`${userId}/${deviceId}`),
  };
}

interface Device {
  identity: DeviceIdentity;
  secrets: KeyPackageSecret[];
  published: Uint8Array[];
}

async function device(dir: ReturnType<typeof directory>, userId: string, deviceId: string, suite?: SuiteName): Promise<Device> {
  const identity = await createDeviceIdentity({ userId, deviceId, ...(suite ? { ciphersuite: suite } : {}) });
  dir.register(identity);
  const batch = await generateKeyPackages(identity, { count: 2 });
  return { identity, secrets: batch.secrets, published: batch.published.map((p) => p.keyPackage) };
}

/** Alice (2 devices) and Bob (1 device) in one group at epoch 1, every state current. */
async function aliceAndBob(suite?: SuiteName) {
  const dir = directory();
  const alice1 = await device(dir, 'alice', 'laptop', suite);
  const alice2 = await device(dir, 'alice', 'phone', suite);
  const bob = await device(dir, 'bob', 'phone', suite);
  const created = await createGroup({ identity: alice1.identity, groupId: GROUP_ID, validateCredential: dir.validate });
  const added = await addMembers(created, [alice2.published[0]!, bob.published[0]!]);
  const a1 = confirmCommit(added.newState);
  const join = (d: Device) =>
    joinGroup({ identity: d.identity, keyPackages: d.secrets, welcome: added.welcome!, validateCredential: dir.validate });
  const a2 = await join(alice2);
  const b = await join(bob);
  return { dir, alice1, alice2, bob, added, states: { a1, a2: a2.state, b: b.state }, joins: { a2, b } };
}

type States = Record<string, GroupState>;

/** Encrypts on `from`, processes on every other state; returns what each decrypted. */
async function send(states: States, from: string, body: string): Promise<Record<string, string>> {
  const sent = await encryptMessage(states[from]!, utf8(body));
  states[from] = sent.newState;
  const seen: Record<string, string> = {};
  for (const name of Object.keys(states)) {
    if (name === from) continue;
    const got = await processMessage(states[name]!, sent.message);
    if (got.kind !== 'application') throw new Error(`expected application message, got ${got.kind}`);
    states[name] = got.newState;
    seen[name] = `${got.sender.userId}/${got.sender.deviceId}: ${text(got.plaintext)}`;
  }
  return seen;
}

describe('MLS group: create, add, join, messages', () => {
  it('Alice (2 devices) and Bob (1 device) exchange messages that every device decrypts', async () => {
    const { states, added, joins, alice1 } = await aliceAndBob();
    expect(added.welcomeRecipients).toEqual([
      { userId: 'alice', deviceId: 'phone' },
      { userId: 'bob', deviceId: 'phone' },
    ]);
    expect(joins.b.keyPackage.lastResort).toBe(false);
    for (const s of Object.values(states)) {
      expect(s.epoch).toBe(1n);
      expect(hex(s.groupId)).toBe(hex(GROUP_ID));
      expect(s.active).toBe(true);
    }
    const members = groupMembers(states.b);
    expect(members.map((m) => `${m.leafIndex}:${m.userId}/${m.deviceId}:${m.self}`)).toEqual([
      '0:alice/laptop:false',
      '1:alice/phone:false',
      '2:bob/phone:true',
    ]);
    expect(hex(members[0]!.signaturePublicKey)).toBe(hex(alice1.identity.signaturePublicKey));

    const s: States = { ...states };
    expect(await send(s, 'a1', 'from laptop')).toEqual({ a2: 'alice/laptop: from laptop', b: 'alice/laptop: from laptop' });
    expect(await send(s, 'b', 'hi Alice')).toEqual({ a1: 'bob/phone: hi Alice', a2: 'bob/phone: hi Alice' });
    expect(await send(s, 'a2', 'from phone')).toEqual({ a1: 'alice/phone: from phone', b: 'alice/phone: from phone' });
    expect(await send(s, 'a1', 'again')).toEqual({ a2: 'alice/laptop: again', b: 'alice/laptop: again' });
  });

  it('forgetting the used key package after joining leaves the joined group intact', async () => {
    const { states, bob, joins } = await aliceAndBob();
    const left = forgetKeyPackage(bob.secrets, joins.b.keyPackage.ref);
    expect(left).toHaveLength(bob.secrets.length - 1);
    expect(joins.b.keyPackage.hpkePrivateKey.every((x) => x === 0)).toBe(true);
    // Alice's path update is encrypted to Bob's leaf key, which came from that key package.
    const update = await commitUpdate(states.a1);
    const a1 = confirmCommit(update.newState);
    const b = await processMessage(states.b, update.commit);
    const a2 = await processMessage(states.a2, update.commit);
    const s: States = { a1, a2: a2.newState, b: b.newState };
    expect(await send(s, 'b', 'still here')).toEqual({ a1: 'bob/phone: still here', a2: 'bob/phone: still here' });
  });

  it('a retired state is refused (never reuse an old state)', async () => {
    const { states } = await aliceAndBob();
    const first = await encryptMessage(states.a1, utf8('one'));
    await rejectsWith(encryptMessage(states.a1, utf8('two')), 'STALE_STATE');
    await rejectsWith(processMessage(states.a1, first.message), 'STALE_STATE');
    await rejectsWith(sealGroupState(states.a1, await generateStateKey()), 'STALE_STATE');
  });

  it('a message for another group is refused', async () => {
    const { states, dir, alice1 } = await aliceAndBob();
    const other = await createGroup({ identity: alice1.identity, groupId: utf8('other'), validateCredential: dir.validate });
    const sent = await encryptMessage(other, utf8('elsewhere'));
    await rejectsWith(processMessage(states.b, sent.message), 'INVALID_MESSAGE');
  });
});

describe('MLS group: removal', () => {
  it('after Bob is removed, neither his processed state nor his saved old state reads the group', async () => {
    const { states, bob } = await aliceAndBob();
    const key = await generateStateKey();
    const bobSavedBefore = await sealGroupState(states.b, key);

    const removal = await removeMembers(states.a1, [{ userId: 'bob', deviceId: 'phone' }]);
    expect(removal.welcome).toBeUndefined();
    const a1 = confirmCommit(removal.newState);
    expect(a1.epoch).toBe(2n);

    const a2 = await processMessage(states.a2, removal.commit);
    expect(a2.kind).toBe('commit');
    if (a2.kind !== 'commit') return;
    expect(a2.removed).toEqual([{ userId: 'bob', deviceId: 'phone' }]);
    expect(a2.sender).toMatchObject({ userId: 'alice', deviceId: 'laptop' });
    expect(a2.removedSelf).toBe(false);

    const b = await processMessage(states.b, removal.commit);
    expect(b.kind === 'commit' && b.removedSelf).toBe(true);
    expect(b.newState.active).toBe(false);

    const after = await encryptMessage(a1, utf8('Bob must not read this'));
    const read = await processMessage(a2.newState, after.message);
    expect(read.kind === 'application' && text(read.plaintext)).toBe('Bob must not read this');

    await rejectsWith(processMessage(b.newState, after.message), 'NOT_A_MEMBER');
    await rejectsWith(encryptMessage(b.newState, utf8('still here?')), 'NOT_A_MEMBER');
    // Everything Bob held at epoch 1 still cannot open epoch 2 (forward secrecy after removal).
    const old = await openGroupState(bobSavedBefore, key, { groupId: GROUP_ID, validateCredential: async () => true });
    await rejectsWith(processMessage(old, after.message), 'WRONG_EPOCH');
    expect(bob.identity.userId).toBe('bob');
  });

  it('removing a device that is not a member, or oneself, is refused', async () => {
    const { states } = await aliceAndBob();
    await rejectsWith(removeMembers(states.a1, [{ userId: 'carol', deviceId: 'x' }]), 'NOT_A_MEMBER');
    await rejectsWith(removeMembers(states.a1, [{ userId: 'alice', deviceId: 'laptop' }]), 'INVALID_ARGUMENT');
  });
});

describe('MLS group: concurrent commits', () => {
  it('the second commit for an epoch fails with WRONG_EPOCH, and its author recovers', async () => {
    const { states } = await aliceAndBob();
    const first = await commitUpdate(states.a1);
    const second = await commitUpdate(states.a2);

    // The Delivery Service orders `first` before `second`.
    const a1 = confirmCommit(first.newState);
    const b1 = await processMessage(states.b, first.commit);
    expect(b1.newState.epoch).toBe(2n);
    await rejectsWith(processMessage(b1.newState, second.commit), 'WRONG_EPOCH');

    // While its commit is pending, a device neither sends nor processes with either state.
    await rejectsWith(encryptMessage(second.newState, utf8('too early')), 'COMMIT_PENDING');
    await rejectsWith(processMessage(states.a2, first.commit), 'COMMIT_PENDING');

    const a2previous = discardCommit(second.newState);
    await rejectsWith(encryptMessage(second.newState, utf8('discarded')), 'STALE_STATE');
    const a2 = await processMessage(a2previous, first.commit);
    expect(a2.newState.epoch).toBe(2n);

    const s: States = { a1, a2: a2.newState, b: b1.newState };
    expect(await send(s, 'a2', 'back in sync')).toEqual({ a1: 'alice/phone: back in sync', b: 'alice/phone: back in sync' });
  });

  it('application messages of the previous epoch still decrypt after a commit', async () => {
    const { states } = await aliceAndBob();
    const early = await encryptMessage(states.b, utf8('sent at epoch 1'));
    const update = await commitUpdate(states.a1);
    const a1 = confirmCommit(update.newState);
    const late = await processMessage(a1, early.message);
    expect(late.kind === 'application' && late.epoch).toBe(1n);
  });
});

describe('MLS group: tampering and replay', () => {
  it('a tampered ciphertext is refused and the state stays usable', async () => {
    const { states } = await aliceAndBob();
    const sent = await encryptMessage(states.a1, utf8('dose: 5 mg'));
    for (const at of [sent.message.length - 1, sent.message.length - 40, 30]) {
      const tampered = sent.message.slice();
      tampered[at]! ^= 0x01;
      await expect(processMessage(states.b, tampered)).rejects.toSatisfy(
        (e: { code?: string }) => e.code === 'DECRYPT_FAILED' || e.code === 'INVALID_MESSAGE',
      );
    }
    await rejectsWith(processMessage(states.b, sent.message.subarray(0, 50)), 'INVALID_MESSAGE');
    await rejectsWith(processMessage(states.b, utf8('not mls at all')), 'INVALID_MESSAGE');
    const ok = await processMessage(states.b, sent.message);
    expect(ok.kind === 'application' && text(ok.plaintext)).toBe('dose: 5 mg');
  });

  it('a replayed application message or commit is refused', async () => {
    const { states } = await aliceAndBob();
    const sent = await encryptMessage(states.a1, utf8('once'));
    const first = await processMessage(states.b, sent.message);
    await rejectsWith(processMessage(first.newState, sent.message), 'REPLAYED_MESSAGE');

    const update = await commitUpdate(sent.newState);
    confirmCommit(update.newState);
    const b = await processMessage(first.newState, update.commit);
    await rejectsWith(processMessage(b.newState, update.commit), 'WRONG_EPOCH');
    await rejectsWith(processMessage(b.newState, sent.message), 'REPLAYED_MESSAGE');
  });
});

describe('MLS group: credential validation and key package lifetime', () => {
  it('a key package past its lifetime is refused', async () => {
    const { states, dir } = await aliceAndBob();
    const carol = await createDeviceIdentity({ userId: 'carol', deviceId: 'tablet' });
    dir.register(carol);
    const longAgo = new Date(Date.now() - 91 * 24 * 3600 * 1000);
    const old = await generateKeyPackages(carol, { count: 1, lastResort: false, now: longAgo });
    await rejectsWith(addMembers(states.a1, [old.published[0]!.keyPackage]), 'KEY_PACKAGE_EXPIRED');
    const fresh = await generateKeyPackages(carol, { count: 1, lastResort: false });
    const added = await addMembers(states.a1, [fresh.published[0]!.keyPackage]);
    expect(added.welcomeRecipients).toEqual([{ userId: 'carol', deviceId: 'tablet' }]);
  });

  it('the adder refuses a device the directory does not know, or whose key does not match', async () => {
    const { states } = await aliceAndBob();
    const mallory = await createDeviceIdentity({ userId: 'mallory', deviceId: 'x' });
    const kp = await generateKeyPackages(mallory, { count: 1, lastResort: false });
    await rejectsWith(addMembers(states.a1, [kp.published[0]!.keyPackage]), 'CREDENTIAL_REJECTED');
    // An impostor claiming Bob's identity with its own key: a second Bob device id is unknown,
    // and Bob's own device id carries a key the directory does not list.
    const fakeBob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const fake = await generateKeyPackages(fakeBob, { count: 1, lastResort: false });
    await rejectsWith(addMembers(states.a1, [fake.published[0]!.keyPackage]), 'INVALID_ARGUMENT'); // already a member
    const fakeBob2 = await createDeviceIdentity({ userId: 'bob', deviceId: 'laptop' });
    const fake2 = await generateKeyPackages(fakeBob2, { count: 1, lastResort: false });
    await rejectsWith(addMembers(states.a1, [fake2.published[0]!.keyPackage]), 'CREDENTIAL_REJECTED');
    // The failed attempts left the state usable.
    const sent = await encryptMessage(states.a1, utf8('still fine'));
    expect(sent.message.length).toBeGreaterThan(0);
  });

  it('the joiner refuses a Welcome whose group holds a credential its directory rejects', async () => {
    const dir = directory();
    const alice = await device(dir, 'alice', 'laptop');
    const bob = await device(dir, 'bob', 'phone');
    const group = await createGroup({ identity: alice.identity, groupId: GROUP_ID, validateCredential: dir.validate });
    const added = await addMembers(group, [bob.published[0]!]);
    const bobsView = directory();
    bobsView.register(bob.identity); // Bob's directory no longer vouches for Alice's device
    await rejectsWith(
      joinGroup({ identity: bob.identity, keyPackages: bob.secrets, welcome: added.welcome!, validateCredential: bobsView.validate }),
      'CREDENTIAL_REJECTED',
    );
    const failing: CredentialValidator = async () => {
      throw new Error('directory unreachable');
    };
    await rejectsWith(
      joinGroup({ identity: bob.identity, keyPackages: bob.secrets, welcome: added.welcome!, validateCredential: failing }),
      'CREDENTIAL_CHECK_FAILED',
    );
    const joined = await joinGroup({
      identity: bob.identity,
      keyPackages: bob.secrets,
      welcome: added.welcome!,
      validateCredential: dir.validate,
      expectedGroupId: GROUP_ID,
    });
    expect(joined.state.epoch).toBe(1n);
  });

  it('a member refuses a commit that adds a device its directory rejects', async () => {
    const { states, dir } = await aliceAndBob();
    const carol = await device(dir, 'carol', 'tablet');
    const added = await addMembers(states.a1, [carol.published[0]!]);
    dir.revoke('carol', 'tablet'); // Bob's (shared) directory learns of the revocation first
    await rejectsWith(processMessage(states.b, added.commit), 'CREDENTIAL_REJECTED');
  });

  it('a Welcome for none of our key packages is refused', async () => {
    const { added, dir } = await aliceAndBob();
    const carol = await device(dir, 'carol', 'tablet');
    await rejectsWith(
      joinGroup({ identity: carol.identity, keyPackages: carol.secrets, welcome: added.welcome!, validateCredential: dir.validate }),
      'UNKNOWN_KEY_PACKAGE',
    );
  });
});

describe('MLS group: post-quantum suite', () => {
  it(`${POST_QUANTUM_SUITE} is available (its optional dependency is declared by this package)`, async () => {
    expect(await isSuiteAvailable(POST_QUANTUM_SUITE)).toBe(true);
  });

  it(`${POST_QUANTUM_SUITE}: add and a message round`, async () => {
    const { states } = await aliceAndBob(POST_QUANTUM_SUITE);
    expect(states.b.suite).toBe(POST_QUANTUM_SUITE);
    const s: States = { ...states };
    expect(await send(s, 'b', 'quantum-safe hello')).toEqual({
      a1: 'bob/phone: quantum-safe hello',
      a2: 'bob/phone: quantum-safe hello',
    });
  });
});
