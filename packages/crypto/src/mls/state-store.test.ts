import { describe, expect, it } from 'vitest';
import {
  addMembers,
  confirmCommit,
  createDeviceIdentity,
  createGroup,
  encryptMessage,
  generateKeyPackages,
  generateStateKey,
  joinGroup,
  openDeviceSecrets,
  openGroupState,
  processMessage,
  sealDeviceSecrets,
  sealGroupState,
  type CredentialValidator,
} from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const GROUP_ID = utf8('conversation-1');

async function twoMemberGroup(validateCredential: CredentialValidator) {
  const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
  const bob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
  const bobKeys = await generateKeyPackages(bob, { count: 1 });
  const group = await createGroup({ identity: alice, groupId: GROUP_ID, validateCredential });
  const added = await addMembers(group, [bobKeys.published[0]!.keyPackage]);
  const joined = await joinGroup({ identity: bob, keyPackages: bobKeys.secrets, welcome: added.welcome!, validateCredential });
  return { alice: confirmCommit(added.newState), bob: joined.state, bobIdentity: bob, bobKeys, pending: added };
}

describe('group state at rest', () => {
  it('round-trips and the reopened state keeps working (validator re-attached)', async () => {
    const calls: string[] = [];
    const validate: CredentialValidator = async (c) => {
      calls.push(`${c.userId}/${c.deviceId}`);
      return true;
    };
    const { alice, bob } = await twoMemberGroup(validate);
    const key = await generateStateKey();
    expect(key.extractable).toBe(false);

    const sealed = await sealGroupState(bob, key);
    expect(sealed[0]).toBe(1); // format version
    expect(Buffer.from(sealed).includes(Buffer.from(GROUP_ID))).toBe(false);
    const reopened = await openGroupState(sealed, key, { groupId: GROUP_ID, validateCredential: validate });
    expect(reopened.epoch).toBe(bob.epoch);

    const sent = await encryptMessage(alice, utf8('after restart'));
    const got = await processMessage(reopened, sent.message);
    expect(got.kind === 'application' && text(got.plaintext)).toBe('after restart');

    // The re-attached validator is consulted for the next commit.
    calls.length = 0;
    const carol = await createDeviceIdentity({ userId: 'carol', deviceId: 'tablet' });
    const carolKeys = await generateKeyPackages(carol, { count: 1, lastResort: false });
    const added = await addMembers(sent.newState, [carolKeys.published[0]!.keyPackage]);
    await processMessage(got.newState, added.commit);
    expect(calls).toContain('carol/tablet');
  });

  it('fails to open with the wrong key, for another group, or when tampered', async () => {
    const { bob } = await twoMemberGroup(async () => true);
    const key = await generateStateKey();
    const sealed = await sealGroupState(bob, key);
    const options = { groupId: GROUP_ID, validateCredential: async () => true };
    await expect(openGroupState(sealed, await generateStateKey(), options)).rejects.toMatchObject({ code: 'STATE_DECRYPT_FAILED' });
    await expect(openGroupState(sealed, key, { ...options, groupId: utf8('conversation-2') })).rejects.toMatchObject({
      code: 'STATE_DECRYPT_FAILED',
    });
    const tampered = sealed.slice();
    tampered[tampered.length - 1]! ^= 1;
    await expect(openGroupState(tampered, key, options)).rejects.toMatchObject({ code: 'STATE_DECRYPT_FAILED' });
    const future = sealed.slice();
    future[0] = 2;
    await expect(openGroupState(future, key, options)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    const extractable = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt', 'decrypt']);
    await expect(openGroupState(sealed, extractable, options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a pending commit state can be sealed before the commit is sent', async () => {
    const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
    const bob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const bobKeys = await generateKeyPackages(bob, { count: 1, lastResort: false });
    const group = await createGroup({ identity: alice, groupId: GROUP_ID, validateCredential: async () => true });
    const added = await addMembers(group, [bobKeys.published[0]!.keyPackage]);
    const key = await generateStateKey();
    const sealed = await sealGroupState(added.newState, key);
    const reopened = await openGroupState(sealed, key, { groupId: GROUP_ID, validateCredential: async () => true });
    expect(reopened.epoch).toBe(1n);
  });
});

describe('device secrets at rest', () => {
  it('round-trip, and the reopened key packages join a group', async () => {
    const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
    const bob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const batch = await generateKeyPackages(bob, { count: 2 });
    const key = await generateStateKey();
    const sealed = await sealDeviceSecrets({ identity: bob, keyPackages: batch.secrets }, key);
    expect(Buffer.from(sealed).includes(Buffer.from(bob.signaturePrivateKey))).toBe(false);

    const opened = await openDeviceSecrets(sealed, key, { userId: 'bob', deviceId: 'phone' });
    expect(opened.identity).toEqual(bob);
    expect(opened.keyPackages).toEqual(batch.secrets);

    const group = await createGroup({ identity: alice, groupId: GROUP_ID, validateCredential: async () => true });
    const added = await addMembers(group, [batch.published[2]!.keyPackage]);
    const joined = await joinGroup({
      identity: opened.identity,
      keyPackages: opened.keyPackages,
      welcome: added.welcome!,
      validateCredential: async () => true,
    });
    expect(joined.keyPackage.lastResort).toBe(true);

    await expect(openDeviceSecrets(sealed, await generateStateKey(), { userId: 'bob', deviceId: 'phone' })).rejects.toMatchObject({
      code: 'STATE_DECRYPT_FAILED',
    });
    await expect(openDeviceSecrets(sealed, key, { userId: 'bob', deviceId: 'laptop' })).rejects.toMatchObject({
      code: 'STATE_DECRYPT_FAILED',
    });
    const groupBlob = await sealGroupState(joined.state, key);
    await expect(openDeviceSecrets(groupBlob, key, { userId: 'bob', deviceId: 'phone' })).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
  });
});
