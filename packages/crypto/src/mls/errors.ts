/**
 * Typed errors at the boundary of the MLS layer. ts-mls throws a handful of generic classes
 * (`CryptoError: OperationError` for both tampering and a wrong key, `ValidationError` for
 * dozens of causes); callers branch on `code` here, never on a message.
 * Codes are only ever added, never renamed or reused.
 */
export type MlsErrorCode =
  /** A handshake message for another epoch, or an application message for an epoch we no longer (or not yet) hold keys for. */
  | 'WRONG_EPOCH'
  /** AEAD decryption failed: tampered ciphertext, or keys that do not match. */
  | 'DECRYPT_FAILED'
  /** Malformed, unauthenticated or protocol-invalid message (bad signature, bad encoding, wrong group). */
  | 'INVALID_MESSAGE'
  /** The key for this sender and generation was already used (a replay) or already deleted. */
  | 'REPLAYED_MESSAGE'
  /** This device is not (or no longer) in the group, or the named device is not a member. */
  | 'NOT_A_MEMBER'
  /** The caller's credential validator answered false for a credential in the operation. */
  | 'CREDENTIAL_REJECTED'
  /** The caller's credential validator threw (directory unreachable, ...): retry later. */
  | 'CREDENTIAL_CHECK_FAILED'
  /** A credential that is not a Consilium device credential. */
  | 'INVALID_CREDENTIAL'
  /** A key package outside its lifetime. */
  | 'KEY_PACKAGE_EXPIRED'
  /** A key package that is malformed, badly signed, of another suite, or with too long a lifetime. */
  | 'KEY_PACKAGE_INVALID'
  /** A Welcome addressed to none of this device's key packages. */
  | 'UNKNOWN_KEY_PACKAGE'
  /** A group state that a later operation has replaced: use the newest state. */
  | 'STALE_STATE'
  /** A state produced by a commit the Delivery Service has not accepted yet. */
  | 'COMMIT_PENDING'
  /** Proposals from other members are waiting: commit them (commitUpdate) before sending. */
  | 'COMMIT_REQUIRED'
  /** A sealed state that does not open under this key (wrong key, wrong group, or tampered). */
  | 'STATE_DECRYPT_FAILED'
  /** A sealed state of an unknown format version or that does not decode. */
  | 'STATE_INVALID'
  /** A ciphersuite we do not offer, or whose optional dependency is not installed. */
  | 'UNSUPPORTED_SUITE'
  | 'INVALID_ARGUMENT'
  | 'INTERNAL';

export class MlsError extends Error {
  override readonly name = 'MlsError';
  readonly code: MlsErrorCode;

  constructor(code: MlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isMlsError(err: unknown, code?: MlsErrorCode): err is MlsError {
  return err instanceof MlsError && (code === undefined || err.code === code);
}

/**
 * Maps an error thrown by ts-mls to an MlsError. ts-mls 1.6.4 does not export its error
 * classes from the main entry, so we match on `name` (set by each class) and, for the few
 * causes that need their own code, on the message. Where we can, callers check the
 * condition before calling ts-mls (epoch, group id, membership) so this is the fallback.
 * `fallback` is the code for a validation failure in the caller's context: INVALID_MESSAGE
 * when processing what others sent, KEY_PACKAGE_INVALID when adding, and so on.
 */
export function toMlsError(err: unknown, fallback: MlsErrorCode): MlsError {
  if (err instanceof MlsError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  const wrap = (code: MlsErrorCode) => new MlsError(code, message, { cause: err });
  switch (name) {
    case 'CryptoError':
      return wrap('DECRYPT_FAILED');
    case 'DependencyError':
      return wrap('UNSUPPORTED_SUITE');
    case 'UsageError':
      return /removed from group/i.test(message) ? wrap('NOT_A_MEMBER') : wrap(fallback);
    case 'ValidationError':
      if (/gen in the past/i.test(message)) return wrap('REPLAYED_MESSAGE');
      if (/epoch/i.test(message)) return wrap('WRONG_EPOCH');
      if (/lifetime/i.test(message)) return wrap('KEY_PACKAGE_EXPIRED');
      return wrap(fallback);
    case 'CryptoVerificationError':
    case 'CodecError':
      return wrap(fallback);
    default:
      return wrap('INTERNAL');
  }
}
