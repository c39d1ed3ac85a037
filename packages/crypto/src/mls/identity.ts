import { fromUtf8, utf8 } from './bytes.js';
import { MlsError } from './errors.js';
import { DEFAULT_SUITE, loadSuite, signatureSchemeOf, type SuiteName } from './suites.js';

/** Which device of which user: the unit MLS puts in a leaf. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
}

/** RFC 9420 BasicCredential; structurally the same as ts-mls's `CredentialBasic`. */
export interface BasicCredential {
  readonly credentialType: 'basic';
  readonly identity: Uint8Array;
}

/**
 * A device's long-term MLS identity: one signature key pair, used for every key package and
 * every group of this device. The private key is raw bytes because ts-mls signs with bytes
 * (see FIELD-NOTES "Keys in the browser"): keep it only sealed at rest (state-store.ts).
 */
export interface DeviceIdentity extends DeviceRef {
  /** The suite this identity was made for; any suite with the same signature scheme can use it. */
  readonly suite: SuiteName;
  readonly credential: BasicCredential;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

/**
 * Credential identity encoding, version 1: the UTF-8 bytes of
 *
 *     consilium:v1:<userId>/<deviceId>
 *
 * where both ids match ID_PATTERN (UUIDs do), so neither can contain ':' or '/' and the
 * encoding is unambiguous and canonical: one (userId, deviceId) has exactly one encoding, and
 * parsing rejects anything else. Human-readable on purpose: it shows up in logs and tree dumps.
 */
export const CREDENTIAL_PREFIX = 'consilium:v1:';
const ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

export function encodeDeviceIdentity(device: DeviceRef): Uint8Array {
  for (const [field, value] of [
    ['userId', device.userId],
    ['deviceId', device.deviceId],
  ] as const) {
    if (!ID_PATTERN.test(value)) {
      throw new MlsError('INVALID_ARGUMENT', `${field} must match ${ID_PATTERN.source}`);
    }
  }
  return utf8(`${CREDENTIAL_PREFIX}${device.userId}/${device.deviceId}`);
}

export function deviceCredential(device: DeviceRef): BasicCredential {
  return { credentialType: 'basic', identity: encodeDeviceIdentity(device) };
}

/** Parses a credential made by `deviceCredential`; throws INVALID_CREDENTIAL for anything else. */
export function parseDeviceCredential(credential: { credentialType: string; identity?: Uint8Array }): DeviceRef {
  if (credential.credentialType !== 'basic' || credential.identity === undefined) {
    throw new MlsError('INVALID_CREDENTIAL', `unsupported credential type ${credential.credentialType}`);
  }
  return parseDeviceIdentity(credential.identity);
}

export function parseDeviceIdentity(identity: Uint8Array): DeviceRef {
  let text: string;
  try {
    text = fromUtf8(identity);
  } catch (err) {
    throw new MlsError('INVALID_CREDENTIAL', 'credential identity is not UTF-8', { cause: err });
  }
  const parts = text.startsWith(CREDENTIAL_PREFIX) ? text.slice(CREDENTIAL_PREFIX.length).split('/') : [];
  const [userId, deviceId] = parts;
  if (parts.length !== 2 || !ID_PATTERN.test(userId ?? '') || !ID_PATTERN.test(deviceId ?? '')) {
    throw new MlsError('INVALID_CREDENTIAL', 'not a Consilium device credential');
  }
  return { userId: userId!, deviceId: deviceId! };
}

export function sameDevice(a: DeviceRef, b: DeviceRef): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

export async function createDeviceIdentity(options: {
  userId: string;
  deviceId: string;
  ciphersuite?: SuiteName;
}): Promise<DeviceIdentity> {
  const suite = options.ciphersuite ?? DEFAULT_SUITE;
  const credential = deviceCredential(options);
  const impl = await loadSuite(suite);
  const { signKey, publicKey } = await impl.signature.keygen();
  return {
    userId: options.userId,
    deviceId: options.deviceId,
    suite,
    credential,
    signaturePublicKey: publicKey,
    signaturePrivateKey: signKey,
  };
}

/** Throws unless `suite` signs with the same scheme as the identity's own suite. */
export function assertIdentityFitsSuite(identity: DeviceIdentity, suite: SuiteName): void {
  if (signatureSchemeOf(identity.suite) !== signatureSchemeOf(suite)) {
    throw new MlsError(
      'UNSUPPORTED_SUITE',
      `identity signs with ${signatureSchemeOf(identity.suite)}, suite ${suite} needs ${signatureSchemeOf(suite)}`,
    );
  }
}
