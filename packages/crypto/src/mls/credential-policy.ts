import {
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  type ClientConfig,
  type Credential,
} from 'ts-mls';
import { MlsError, toMlsError, type MlsErrorCode } from './errors.js';
import { parseDeviceCredential, type DeviceRef } from './identity.js';

/** What the app's validator sees for every credential MLS asks about. */
export interface MemberCredential extends DeviceRef {
  /** The credential's raw identity bytes (see identity.ts for the encoding). */
  readonly identity: Uint8Array;
  /** The leaf's signature key: check it against the directory / key transparency log. */
  readonly signaturePublicKey: Uint8Array;
}

/**
 * Decides whether a (device, signature key) pair may be in a group. ts-mls calls it for every
 * key package added, every leaf in a tree we join, the signer of a Welcome, and every leaf a
 * commit changes. ts-mls's default accepts everything; ours must answer from the directory.
 * Throwing (directory unreachable) aborts the operation with CREDENTIAL_CHECK_FAILED.
 */
export type CredentialValidator = (credential: MemberCredential) => Promise<boolean>;

/**
 * Receivers do not re-check key-package lifetimes (ts-mls `validateLifetimeOnReceive`):
 * a device that was offline processes commits late, and refusing a commit that was valid when
 * it was made would fork that device out of the group. The committer checks (ts-mls always
 * checks what it sends, and addMembers checks first with a typed error).
 */
const lifetimeConfig = { ...defaultLifetimeConfig, validateLifetimeOnReceive: false };

/** One validator wrapped for one ts-mls call, remembering why it said no. */
export interface CredentialCheck {
  readonly clientConfig: ClientConfig;
  /** Turns what ts-mls threw into an MlsError, preferring the validator's verdict. */
  toError(err: unknown, fallback: MlsErrorCode): MlsError;
}

export function credentialCheck(validate: CredentialValidator): CredentialCheck {
  let rejected: DeviceRef | 'unparseable' | undefined;
  let failure: unknown;
  const clientConfig: ClientConfig = {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService: {
      async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
        let device: DeviceRef;
        try {
          device = parseDeviceCredential(credential);
        } catch {
          rejected ??= 'unparseable';
          return false;
        }
        if (credential.credentialType !== 'basic') return false; // narrowed for the type checker
        try {
          const ok = await validate({ ...device, identity: credential.identity, signaturePublicKey });
          if (!ok) rejected ??= device;
          return ok;
        } catch (err) {
          failure ??= err;
          return false;
        }
      },
    },
  };
  return {
    clientConfig,
    toError(err, fallback) {
      if (failure !== undefined) {
        return new MlsError('CREDENTIAL_CHECK_FAILED', 'credential validator failed', { cause: failure });
      }
      if (rejected === 'unparseable') {
        return new MlsError('CREDENTIAL_REJECTED', 'a credential is not a Consilium device credential', { cause: err });
      }
      if (rejected !== undefined) {
        return new MlsError('CREDENTIAL_REJECTED', `credential of ${rejected.userId}/${rejected.deviceId} rejected`, {
          cause: err,
        });
      }
      return toMlsError(err, fallback);
    },
  };
}
