import { decodeGroupState, encodeGroupState, type ClientState } from 'ts-mls';
import { asBufferSource, ByteReader, ByteWriter, bytesEqual, concatBytes, u16, utf8, zeroize } from './bytes.js';
import { credentialCheck, type CredentialValidator } from './credential-policy.js';
import { MlsError } from './errors.js';
import { useState, wrapState, type GroupState } from './group-state.js';
import { encodeDeviceIdentity, type DeviceIdentity, type DeviceRef } from './identity.js';
import type { KeyPackageSecret } from './key-packages.js';
import { SUITES, suiteById, type SuiteName } from './suites.js';

/**
 * Sealed state at rest. ts-mls's serialised state holds private keys and epoch secrets in the
 * clear, so every byte we persist goes through AES-256-GCM under a caller-supplied WebCrypto
 * key: in the browser a non-extractable key kept in IndexedDB (Element's "pickle key"), so a
 * copy of the profile's files reveals nothing without the browser's key store.
 *
 *     sealed = version (1 byte) || kind (1 byte) || iv (12 random bytes) || ciphertext+tag
 *     aad    = "consilium/mls-state" || version || kind || u16 length || binding
 *
 * The binding is the group id for a group state and the credential identity for device
 * secrets, so a blob cannot be opened as another conversation's or another device's state.
 * Uses globalThis.crypto.subtle only (Node 20 and browsers alike).
 */
export const STATE_FORMAT_VERSION = 1;
const KIND_GROUP = 1;
const KIND_DEVICE = 2;
const IV_BYTES = 12;
const AAD_LABEL = utf8('consilium/mls-state');

/** What a device keeps besides its groups: its identity and its unused key packages. */
export interface DeviceSecrets {
  readonly identity: DeviceIdentity;
  readonly keyPackages: readonly KeyPackageSecret[];
}

/** A fresh non-extractable AES-256-GCM key for sealing state. */
export function generateStateKey(): Promise<CryptoKey> {
  return globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** Seals a group state; pending states (see CommitResult) may and must be sealed too. */
export async function sealGroupState(state: GroupState, key: CryptoKey): Promise<Uint8Array> {
  const { client } = useState(state, { allowPending: true });
  const plaintext = encodeGroupState(client);
  try {
    return await seal(KIND_GROUP, client.groupContext.groupId, plaintext, key);
  } finally {
    zeroize(plaintext);
  }
}

/**
 * Opens a sealed group state for the conversation `groupId` and re-attaches what ts-mls does
 * not serialise (its client config, here our credential validator). Reopening is also how to
 * recover when saving a new state failed: the last saved state is the one to continue from.
 */
export async function openGroupState(
  sealed: Uint8Array,
  key: CryptoKey,
  options: { groupId: Uint8Array; validateCredential: CredentialValidator },
): Promise<GroupState> {
  // Not zeroed after decoding: ts-mls's decoder returns views into this buffer, so the
  // state's keys live in it (zeroing consumed secrets later clears them in place).
  const plaintext = await open(KIND_GROUP, options.groupId, sealed, key);
  const decoded = (() => {
    try {
      return decodeGroupState(plaintext, 0);
    } catch {
      return undefined;
    }
  })();
  if (decoded === undefined || decoded[1] !== plaintext.length) {
    throw new MlsError('STATE_INVALID', 'sealed group state does not decode');
  }
  if (!bytesEqual(decoded[0].groupContext.groupId, options.groupId)) {
    throw new MlsError('STATE_INVALID', 'sealed group state is for another group');
  }
  const client: ClientState = { ...decoded[0], clientConfig: credentialCheck(options.validateCredential).clientConfig };
  return wrapState(client, options.validateCredential);
}

export async function sealDeviceSecrets(secrets: DeviceSecrets, key: CryptoKey): Promise<Uint8Array> {
  const { identity } = secrets;
  const w = new ByteWriter()
    .string(identity.userId)
    .string(identity.deviceId)
    .u16(SUITES[identity.suite].id)
    .bytes(identity.signaturePublicKey)
    .bytes(identity.signaturePrivateKey)
    .u16(secrets.keyPackages.length);
  for (const kp of secrets.keyPackages) {
    w.string(kp.ref)
      .bytes(kp.keyPackage)
      .u8(kp.lastResort ? 1 : 0)
      .u64(BigInt(Math.floor(kp.notAfter.getTime() / 1000)))
      .u16(SUITES[kp.suite].id)
      .bytes(kp.initPrivateKey)
      .bytes(kp.hpkePrivateKey);
  }
  const plaintext = w.finish();
  try {
    return await seal(KIND_DEVICE, encodeDeviceIdentity(identity), plaintext, key);
  } finally {
    zeroize(plaintext);
  }
}

/** Opens device secrets sealed for `device`; anything sealed for another device fails. */
export async function openDeviceSecrets(sealed: Uint8Array, key: CryptoKey, device: DeviceRef): Promise<DeviceSecrets> {
  const plaintext = await open(KIND_DEVICE, encodeDeviceIdentity(device), sealed, key);
  try {
    const r = new ByteReader(plaintext);
    const userId = r.string();
    const deviceId = r.string();
    const suite = suiteFromId(r.u16());
    const signaturePublicKey = r.bytes();
    const signaturePrivateKey = r.bytes();
    const count = r.u16();
    const keyPackages: KeyPackageSecret[] = [];
    for (let i = 0; i < count; i++) {
      keyPackages.push({
        ref: r.string(),
        keyPackage: r.bytes(),
        lastResort: r.u8() === 1,
        notAfter: new Date(Number(r.u64()) * 1000),
        suite: suiteFromId(r.u16()),
        initPrivateKey: r.bytes(),
        hpkePrivateKey: r.bytes(),
      });
    }
    r.end();
    const credential = { credentialType: 'basic' as const, identity: encodeDeviceIdentity({ userId, deviceId }) };
    return {
      identity: { userId, deviceId, suite, credential, signaturePublicKey, signaturePrivateKey },
      keyPackages,
    };
  } catch (err) {
    if (err instanceof MlsError) throw err;
    throw new MlsError('STATE_INVALID', 'sealed device secrets do not decode', { cause: err });
  } finally {
    zeroize(plaintext); // every field above is a copy
  }
}

function suiteFromId(id: number): SuiteName {
  const suite = suiteById(id);
  if (suite === undefined) throw new MlsError('STATE_INVALID', `unknown ciphersuite id ${id}`);
  return suite;
}

function aad(kind: number, binding: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(AAD_LABEL, new Uint8Array([STATE_FORMAT_VERSION, kind]), u16(binding.length), binding);
}

function assertStateKey(key: CryptoKey): void {
  const algorithm = key.algorithm as Partial<AesKeyAlgorithm>;
  if (algorithm.name !== 'AES-GCM' || algorithm.length !== 256) {
    throw new MlsError('INVALID_ARGUMENT', 'the state key must be an AES-GCM key of 256 bits');
  }
}

async function seal(kind: number, binding: Uint8Array, plaintext: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  assertStateKey(key);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(kind, binding) },
    key,
    asBufferSource(plaintext),
  );
  return concatBytes(new Uint8Array([STATE_FORMAT_VERSION, kind]), iv, new Uint8Array(ciphertext));
}

async function open(kind: number, binding: Uint8Array, sealed: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  assertStateKey(key);
  if (sealed.length < 2 + IV_BYTES + 16) throw new MlsError('STATE_INVALID', 'sealed state is too short');
  if (sealed[0] !== STATE_FORMAT_VERSION) {
    throw new MlsError('STATE_INVALID', `unknown sealed state format version ${sealed[0]}`);
  }
  if (sealed[1] !== kind) throw new MlsError('STATE_INVALID', 'sealed blob holds another kind of state');
  try {
    const plaintext = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: asBufferSource(sealed.slice(2, 2 + IV_BYTES)), additionalData: aad(kind, binding) },
      key,
      asBufferSource(sealed.slice(2 + IV_BYTES)),
    );
    return new Uint8Array(plaintext);
  } catch (err) {
    throw new MlsError('STATE_DECRYPT_FAILED', 'sealed state does not open with this key for this group or device', {
      cause: err,
    });
  }
}
