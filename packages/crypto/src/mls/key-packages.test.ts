import { describe, expect, it } from 'vitest';
import { defaultCapabilities, defaultLifetime, encodeMlsMessage, generateKeyPackageWithKey } from 'ts-mls';
import {
  addMembers,
  assertKeyPackageUsable,
  createDeviceIdentity,
  createGroup,
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
  findKeyPackageForWelcome,
  forgetExpiredKeyPackages,
  forgetKeyPackage,
  generateKeyPackages,
  MAX_KEY_PACKAGE_LIFETIME_SECONDS,
  readKeyPackage,
  type MlsErrorCode,
} from './index.js';
import { loadSuite } from './suites.js';

const accept = async () => true;

function throwsWith(fn: () => unknown, code: MlsErrorCode): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'MlsError', code }));
}

describe('key packages', () => {
  it('makes one-time key packages plus one last-resort, with a finite lifetime', async () => {
    const identity = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const now = new Date('2030-01-01T00:00:00Z');
    const batch = await generateKeyPackages(identity, { count: 3, now });
    expect(batch.published).toHaveLength(4);
    expect(batch.published.map((p) => p.lastResort)).toEqual([false, false, false, true]);
    expect(new Set(batch.published.map((p) => p.ref)).size).toBe(4);
    for (const [i, p] of batch.published.entries()) {
      const info = await readKeyPackage(p.keyPackage);
      expect(info).toMatchObject({ userId: 'bob', deviceId: 'phone', ref: p.ref, lastResort: p.lastResort });
      expect(info.notAfter.getTime() - now.getTime()).toBe(DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS * 1000);
      expect(info.notBefore.getTime()).toBeLessThan(now.getTime()); // backdated for clock skew
      expect(Buffer.from(info.signaturePublicKey).equals(Buffer.from(identity.signaturePublicKey))).toBe(true);
      // The private half stays local and is never inside what is published.
      const secret = batch.secrets[i]!;
      expect(secret.ref).toBe(p.ref);
      expect(Buffer.from(p.keyPackage).includes(Buffer.from(secret.hpkePrivateKey))).toBe(false);
      expect(Buffer.from(p.keyPackage).includes(Buffer.from(secret.initPrivateKey))).toBe(false);
    }
    const none = await generateKeyPackages(identity, { count: 2, lastResort: false });
    expect(none.published.every((p) => !p.lastResort)).toBe(true);
  });

  it('refuses lifetimes beyond the maximum when making or using key packages', async () => {
    const identity = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    await expect(
      generateKeyPackages(identity, { count: 1, lifetimeSeconds: MAX_KEY_PACKAGE_LIFETIME_SECONDS + 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const now = new Date();
    throwsWith(() => assertKeyPackageUsable({ notBefore: new Date(0), notAfter: new Date(now.getTime() + 1000) }, now), 'KEY_PACKAGE_INVALID');
    throwsWith(() => assertKeyPackageUsable({ notBefore: new Date(now.getTime() + 1000), notAfter: new Date(now.getTime() + 2000) }, now), 'KEY_PACKAGE_EXPIRED');
  });

  it("refuses to add a key package that never expires (ts-mls's default lifetime)", async () => {
    const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
    const bob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const impl = await loadSuite(bob.suite);
    const forever = await generateKeyPackageWithKey(bob.credential, defaultCapabilities(), defaultLifetime, [], {
      signKey: bob.signaturePrivateKey,
      publicKey: bob.signaturePublicKey,
    }, impl);
    const bytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: forever.publicPackage });
    const group = await createGroup({ identity: alice, groupId: new Uint8Array([1]), validateCredential: accept });
    await expect(addMembers(group, [bytes])).rejects.toMatchObject({ code: 'KEY_PACKAGE_INVALID' });
  });

  it('rejects tampered or foreign key packages', async () => {
    const identity = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const [p] = (await generateKeyPackages(identity, { count: 1, lastResort: false })).published;
    const tampered = p!.keyPackage.slice();
    tampered[tampered.length - 10]! ^= 1; // inside the signature
    await expect(readKeyPackage(tampered)).rejects.toMatchObject({ code: 'KEY_PACKAGE_INVALID' });
    const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
    const group = await createGroup({ identity: alice, groupId: new Uint8Array([1]), validateCredential: accept });
    await expect(addMembers(group, [tampered])).rejects.toMatchObject({ code: 'KEY_PACKAGE_INVALID' });
    await expect(readKeyPackage(p!.keyPackage.subarray(0, 20))).rejects.toMatchObject({ code: 'KEY_PACKAGE_INVALID' });
    const impl = await loadSuite(identity.suite);
    const foreign = await generateKeyPackageWithKey(
      { credentialType: 'basic', identity: new TextEncoder().encode('alice') },
      defaultCapabilities(),
      defaultLifetime,
      [],
      { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
      impl,
    );
    const foreignBytes = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: foreign.publicPackage });
    await expect(readKeyPackage(foreignBytes)).rejects.toMatchObject({ code: 'KEY_PACKAGE_INVALID' });
  });

  it('finds the private half for a Welcome, and forgets used or expired ones', async () => {
    const alice = await createDeviceIdentity({ userId: 'alice', deviceId: 'laptop' });
    const bob = await createDeviceIdentity({ userId: 'bob', deviceId: 'phone' });
    const batch = await generateKeyPackages(bob, { count: 2 });
    const group = await createGroup({ identity: alice, groupId: new Uint8Array([1]), validateCredential: accept });
    const added = await addMembers(group, [batch.published[1]!.keyPackage]);
    const found = findKeyPackageForWelcome(batch.secrets, added.welcome!);
    expect(found?.ref).toBe(batch.published[1]!.ref);
    expect(findKeyPackageForWelcome([batch.secrets[0]!], added.welcome!)).toBeUndefined();

    const hpke = found!.hpkePrivateKey;
    const left = forgetKeyPackage(batch.secrets, found!.ref);
    expect(left.map((s) => s.ref)).toEqual([batch.secrets[0]!.ref, batch.secrets[2]!.ref]);
    expect(hpke.every((b) => b === 0)).toBe(true);

    const later = new Date(Date.now() + (DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS + 60) * 1000);
    expect(forgetExpiredKeyPackages(left, later)).toEqual([]);
  });
});
