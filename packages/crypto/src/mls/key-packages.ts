import { generateKeyPackageWithKey, type Capabilities, type KeyPackage, type Welcome } from 'ts-mls';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import { bytesEqual, toHex, zeroize } from './bytes.js';
import { MlsError } from './errors.js';
import { assertIdentityFitsSuite, parseDeviceCredential, type DeviceIdentity, type DeviceRef } from './identity.js';
import { isSuiteName, loadSuite, type SuiteName } from './suites.js';
import { decodeKeyPackage, decodeWelcome, encodeKeyPackage } from './wire.js';

const DAY = 24 * 60 * 60;
/** How long a key package we make stays valid. ts-mls's `defaultLifetime` never expires. */
export const DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS = 90 * DAY;
/** notBefore is backdated by this much so a key package is usable at once on a clock that lags. */
export const KEY_PACKAGE_CLOCK_SKEW_SECONDS = 60 * 60;
/** The longest lifetime we make or accept: a key package valid for years is refused on add. */
export const MAX_KEY_PACKAGE_LIFETIME_SECONDS = 100 * DAY;

/**
 * `last_resort` KeyPackage extension (draft-ietf-mls-extensions, IANA MLS Extension Types
 * 0x000A, empty body). ts-mls 1.6.4 does not know it, so we add it as a raw extension and list
 * it in the leaf's capabilities. It tells the Delivery Service to hand this key package out
 * again when the one-time ones run out, instead of deleting it after one use.
 */
export const LAST_RESORT_EXTENSION_TYPE = 0x000a;

/** What a device uploads: the public key package, encoded as an MLSMessage. */
export interface PublishedKeyPackage {
  /** KeyPackageRef (RFC 9420 §5.2) in hex; the Welcome names the recipient by it. */
  readonly ref: string;
  readonly keyPackage: Uint8Array;
  readonly lastResort: boolean;
  readonly notAfter: Date;
}

/** What stays on the device: the private half, found by ref when a Welcome arrives. */
export interface KeyPackageSecret extends PublishedKeyPackage {
  readonly suite: SuiteName;
  readonly initPrivateKey: Uint8Array;
  readonly hpkePrivateKey: Uint8Array;
}

export interface KeyPackageBatch {
  readonly published: PublishedKeyPackage[];
  readonly secrets: KeyPackageSecret[];
}

/** A verified view of someone's key package (for the adder, and the server on upload). */
export interface KeyPackageInfo extends DeviceRef {
  readonly ref: string;
  readonly suite: SuiteName;
  readonly signaturePublicKey: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly lastResort: boolean;
}

export function keyPackageCapabilities(suite: SuiteName): Capabilities {
  return {
    versions: ['mls10'],
    ciphersuites: [suite],
    extensions: [LAST_RESORT_EXTENSION_TYPE],
    proposals: [],
    credentials: ['basic'],
  };
}

/**
 * Makes `count` one-time key packages and, unless `lastResort: false`, one last-resort key
 * package, all signed with the identity's key. Upload `published`; keep `secrets` sealed
 * (state-store.ts) until a Welcome names one of them.
 */
export async function generateKeyPackages(
  identity: DeviceIdentity,
  options: { count: number; lastResort?: boolean; lifetimeSeconds?: number; suite?: SuiteName; now?: Date },
): Promise<KeyPackageBatch> {
  const suite = options.suite ?? identity.suite;
  const lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS;
  if (!Number.isInteger(options.count) || options.count < 0 || options.count > 1000) {
    throw new MlsError('INVALID_ARGUMENT', 'count must be an integer from 0 to 1000');
  }
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0 || lifetimeSeconds > MAX_KEY_PACKAGE_LIFETIME_SECONDS) {
    throw new MlsError('INVALID_ARGUMENT', `lifetimeSeconds must be 1..${MAX_KEY_PACKAGE_LIFETIME_SECONDS}`);
  }
  assertIdentityFitsSuite(identity, suite);
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const kinds = Array.from({ length: options.count }, () => false);
  if (options.lastResort ?? true) kinds.push(true);
  const secrets: KeyPackageSecret[] = [];
  for (const lastResort of kinds) {
    secrets.push(await makeKeyPackage(identity, suite, lastResort, nowSeconds, lifetimeSeconds));
  }
  return {
    published: secrets.map(({ ref, keyPackage, lastResort, notAfter }) => ({ ref, keyPackage, lastResort, notAfter })),
    secrets,
  };
}

async function makeKeyPackage(
  identity: DeviceIdentity,
  suite: SuiteName,
  lastResort: boolean,
  nowSeconds: number,
  lifetimeSeconds: number,
): Promise<KeyPackageSecret> {
  const impl = await loadSuite(suite);
  const lifetime = {
    notBefore: BigInt(nowSeconds - KEY_PACKAGE_CLOCK_SKEW_SECONDS),
    notAfter: BigInt(nowSeconds + lifetimeSeconds),
  };
  const extensions = lastResort ? [{ extensionType: LAST_RESORT_EXTENSION_TYPE, extensionData: new Uint8Array() }] : [];
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    identity.credential,
    keyPackageCapabilities(suite),
    lifetime,
    extensions,
    { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
    impl,
  );
  return {
    ref: toHex(await makeKeyPackageRef(publicPackage, impl.hash)),
    keyPackage: encodeKeyPackage(publicPackage),
    lastResort,
    notAfter: new Date(Number(lifetime.notAfter) * 1000),
    suite,
    initPrivateKey: privatePackage.initPrivateKey,
    hpkePrivateKey: privatePackage.hpkePrivateKey,
  };
}

/** Decodes and verifies a key package (both signatures, credential format, suite). */
export async function readKeyPackage(bytes: Uint8Array): Promise<KeyPackageInfo> {
  return inspectKeyPackage(decodeKeyPackage(bytes), { verify: true });
}

/**
 * Reads a decoded key package. `verify: false` skips the two signature checks when ts-mls is
 * about to make them anyway (adding a member), which halves the cost of a large add.
 */
export async function inspectKeyPackage(kp: KeyPackage, options: { verify: boolean }): Promise<KeyPackageInfo> {
  if (!isSuiteName(kp.cipherSuite)) {
    throw new MlsError('KEY_PACKAGE_INVALID', `key package uses ciphersuite ${kp.cipherSuite}, which we do not offer`);
  }
  const impl = await loadSuite(kp.cipherSuite);
  const valid =
    !options.verify ||
    ((await verifyKeyPackage(kp, impl.signature)) && (await verifyLeafNodeSignatureKeyPackage(kp.leafNode, impl.signature)));
  if (!valid) throw new MlsError('KEY_PACKAGE_INVALID', 'key package signature does not verify');
  let device: DeviceRef;
  try {
    device = parseDeviceCredential(kp.leafNode.credential);
  } catch (err) {
    throw new MlsError('KEY_PACKAGE_INVALID', 'key package credential is not a Consilium device credential', {
      cause: err,
    });
  }
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    ref: toHex(await makeKeyPackageRef(kp, impl.hash)),
    suite: kp.cipherSuite,
    signaturePublicKey: kp.leafNode.signaturePublicKey,
    notBefore: new Date(Number(kp.leafNode.lifetime.notBefore) * 1000),
    notAfter: new Date(Number(kp.leafNode.lifetime.notAfter) * 1000),
    lastResort: kp.extensions.some((e) => e.extensionType === LAST_RESORT_EXTENSION_TYPE),
  };
}

/**
 * Throws KEY_PACKAGE_EXPIRED outside [notBefore, notAfter] and KEY_PACKAGE_INVALID for a
 * lifetime longer than we allow (a key package that never expires can be replayed forever).
 */
export function assertKeyPackageUsable(info: Pick<KeyPackageInfo, 'notBefore' | 'notAfter'>, now = new Date()): void {
  const span = (info.notAfter.getTime() - info.notBefore.getTime()) / 1000;
  if (!(span <= MAX_KEY_PACKAGE_LIFETIME_SECONDS + KEY_PACKAGE_CLOCK_SKEW_SECONDS)) {
    throw new MlsError('KEY_PACKAGE_INVALID', `key package lifetime of ${Math.round(span / DAY)} days is too long`);
  }
  if (now < info.notBefore || now > info.notAfter) {
    throw new MlsError('KEY_PACKAGE_EXPIRED', `key package valid ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}`);
  }
}

/** The key package of ours that a Welcome (encoded MLSMessage) is addressed to, if any. */
export function findKeyPackageForWelcome(
  secrets: readonly KeyPackageSecret[],
  welcome: Uint8Array,
): KeyPackageSecret | undefined {
  return keyPackageForWelcome(secrets, decodeWelcome(welcome));
}

export function keyPackageForWelcome(secrets: readonly KeyPackageSecret[], welcome: Welcome): KeyPackageSecret | undefined {
  const refs = new Set(welcome.secrets.map((s) => toHex(s.newMember)));
  return secrets.find((s) => s.suite === welcome.cipherSuite && refs.has(s.ref));
}

/**
 * Drops a key package's private half (after a Welcome used a one-time one, or when it expired)
 * and zeroes its private keys. Returns the remaining list; persist it.
 */
export function forgetKeyPackage(secrets: readonly KeyPackageSecret[], ref: string): KeyPackageSecret[] {
  const gone = secrets.filter((s) => s.ref === ref);
  for (const s of gone) zeroize(s.initPrivateKey, s.hpkePrivateKey);
  return secrets.filter((s) => s.ref !== ref);
}

/** Forgets every key package whose lifetime has ended. */
export function forgetExpiredKeyPackages(secrets: readonly KeyPackageSecret[], now = new Date()): KeyPackageSecret[] {
  let kept: KeyPackageSecret[] = [...secrets];
  for (const s of secrets) if (s.notAfter < now) kept = forgetKeyPackage(kept, s.ref);
  return kept;
}

/**
 * Rebuilds the ts-mls private package for joining with one of our key packages. The keys are
 * copies: ts-mls keeps the HPKE key object itself as the new leaf's private key, and
 * forgetKeyPackage must be able to zero the stored one without breaking the joined group.
 */
export function privatePackageFor(identity: DeviceIdentity, secret: KeyPackageSecret) {
  const keyPackage = decodeKeyPackage(secret.keyPackage);
  if (!bytesEqual(keyPackage.leafNode.signaturePublicKey, identity.signaturePublicKey)) {
    throw new MlsError('INVALID_ARGUMENT', 'key package was not made by this identity');
  }
  return {
    keyPackage,
    privatePackage: {
      initPrivateKey: secret.initPrivateKey.slice(),
      hpkePrivateKey: secret.hpkePrivateKey.slice(),
      signaturePrivateKey: identity.signaturePrivateKey,
    },
  };
}
