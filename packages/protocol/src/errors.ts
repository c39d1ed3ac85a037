import { z } from 'zod';

/**
 * Stable error codes. Clients branch on `code`, never on `message`; codes are only ever added,
 * never renamed or reused. Each carries the HTTP status the server answers with.
 */
export const errorStatus = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNAUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  INVALID_CREDENTIALS: 401,
  MFA_REQUIRED: 401,
  MFA_SETUP_REQUIRED: 403,
  MFA_INVALID_CODE: 401,
  MFA_NOT_ENROLLED: 409,
  MFA_ALREADY_ENROLLED: 409,
  PASSKEY_VERIFICATION_FAILED: 401,
  FORBIDDEN: 403,
  ORIGIN_MISMATCH: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EMAIL_TAKEN: 409,
  INVITE_INVALID: 410,
  /** The code given in person with a patient invitation is wrong (the invitation ends after 5 tries). */
  INVITE_CODE_INVALID: 401,
  WEAK_PASSWORD: 422,
  LAST_ADMIN: 409,
  /** A commit for an epoch another commit already took: process the winner, then retry. */
  STALE_EPOCH: 409,
  NOT_A_MEMBER: 403,
  INVALID_MLS_MESSAGE: 400,
  DEVICE_REQUIRED: 409,
  /** This device was revoked (lost or stolen): register a new one. Also sent as a WebSocket error frame. */
  DEVICE_REVOKED: 403,
  /** Patient cases are open only to verified professionals. */
  NOT_VERIFIED: 403,
  /** An urgent or emergency consult needs someone on call for the specialty asked. */
  NO_ONE_ON_CALL: 409,
  /** The case is closed (or the page already settled): nothing more can change. */
  CASE_CLOSED: 409,
  /** An uploaded blob's SHA-256 is not the id it was uploaded under. */
  BLOB_HASH_MISMATCH: 422,
  /** A shared phishing campaign: the caller's role on it (viewer, author) does not allow this. */
  CAMPAIGN_ROLE_REQUIRED: 403,
  /** A phishing template uses a merge field that does not exist; the message names it. */
  UNKNOWN_MERGE_FIELD: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]];

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: z.enum(errorCodes),
    message: z.string(),
    /** Seconds until a rate-limited request may be retried. */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    /** Which fields failed validation, as dotted paths. */
    issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
