/**
 * Client-side MLS (RFC 9420) for Consilium, on ts-mls 1.6.4. Every ts-mls call of the project
 * lives in this folder, so the ts-mls 2.0 migration touches nothing else.
 */
export { MlsError, isMlsError, type MlsErrorCode } from './errors.js';
export {
  SUITES,
  DEFAULT_SUITE,
  POST_QUANTUM_SUITE,
  supportedSuites,
  isSuiteAvailable,
  isSuiteName,
  suiteById,
  type SuiteName,
  type SuiteDescription,
  type SupportedSuite,
} from './suites.js';
export {
  CREDENTIAL_PREFIX,
  createDeviceIdentity,
  deviceCredential,
  encodeDeviceIdentity,
  parseDeviceCredential,
  parseDeviceIdentity,
  sameDevice,
  type BasicCredential,
  type DeviceIdentity,
  type DeviceRef,
} from './identity.js';
export type { CredentialValidator, MemberCredential } from './credential-policy.js';
export {
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
  KEY_PACKAGE_CLOCK_SKEW_SECONDS,
  MAX_KEY_PACKAGE_LIFETIME_SECONDS,
  LAST_RESORT_EXTENSION_TYPE,
  generateKeyPackages,
  readKeyPackage,
  assertKeyPackageUsable,
  findKeyPackageForWelcome,
  forgetKeyPackage,
  forgetExpiredKeyPackages,
  type PublishedKeyPackage,
  type KeyPackageSecret,
  type KeyPackageBatch,
  type KeyPackageInfo,
} from './key-packages.js';
export { groupMembers, type GroupState, type GroupMember } from './group-state.js';
export {
  createGroup,
  joinGroup,
  addMembers,
  removeMembers,
  commitUpdate,
  confirmCommit,
  discardCommit,
  type CommitResult,
  type JoinResult,
} from './group.js';
export { encryptMessage, processMessage, type ProcessedMessage, type MessageSender } from './messages.js';
export {
  STATE_FORMAT_VERSION,
  generateStateKey,
  sealGroupState,
  openGroupState,
  sealDeviceSecrets,
  openDeviceSecrets,
  type DeviceSecrets,
} from './state-store.js';
export { FINGERPRINT_LABEL, deviceFingerprint, type DeviceFingerprint } from './fingerprint.js';
export { readMessageHeader, assertWelcome, type MessageHeader } from './header.js';
