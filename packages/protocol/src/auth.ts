import { z } from 'zod';
import { Email, Id, PasswordInput, Timestamp } from './common.js';
import { Role, VerificationLevel } from './account.js';
import { OrgSettings } from './org.js';

export const SignInBody = z.strictObject({ email: Email, password: PasswordInput });
export type SignInBody = z.infer<typeof SignInBody>;

/**
 * Where a session stands. A password alone never yields `active` when the account has a second
 * factor or its organisation requires one.
 */
export const SessionStage = z.enum(['mfa_required', 'mfa_setup_required', 'active']);
export type SessionStage = z.infer<typeof SessionStage>;

export const MfaMethod = z.enum(['totp', 'passkey', 'recovery_code']);
export type MfaMethod = z.infer<typeof MfaMethod>;

export const SignInResult = z.strictObject({
  stage: SessionStage,
  /** Second factors this account can use now (only when stage is mfa_required). */
  mfaMethods: z.array(MfaMethod),
});
export type SignInResult = z.infer<typeof SignInResult>;

export const TotpCode = z.string().regex(/^\d{6}$/, 'a 6-digit code');
export const TotpBody = z.strictObject({ code: TotpCode });
export type TotpBody = z.infer<typeof TotpBody>;

/** Recovery codes are shown as xxxxx-xxxxx; dashes and case are ignored when typed back. */
export const RecoveryCode = z
  .string()
  .trim()
  .max(32)
  .transform((c) => c.replace(/[\s-]/g, '').toLowerCase())
  .pipe(z.string().regex(/^[a-z2-9]{10}$/, 'a recovery code'));
export const RecoveryCodeBody = z.strictObject({ code: RecoveryCode });
export type RecoveryCodeBody = z.infer<typeof RecoveryCodeBody>;

export const TotpSetup = z.strictObject({
  /** Base32 secret, for typing into an authenticator by hand. */
  secret: z.string(),
  /** otpauth:// URI (Key Uri Format) for the QR code. */
  otpauthUri: z.string(),
});
export type TotpSetup = z.infer<typeof TotpSetup>;

export const RecoveryCodes = z.strictObject({ recoveryCodes: z.array(z.string()) });
export type RecoveryCodes = z.infer<typeof RecoveryCodes>;

// WebAuthn JSON (W3C WebAuthn L3 §5.1 "toJSON" encodings) as @simplewebauthn exchanges them.
// Top-level keys are strict; authenticator output is open so new browser fields do not break sign-in.
const Base64Url = z.string().regex(/^[A-Za-z0-9_-]*={0,2}$/).max(16_384);
export const PasskeyRegistrationResponse = z.strictObject({
  id: Base64Url,
  rawId: Base64Url,
  type: z.literal('public-key'),
  response: z.looseObject({ clientDataJSON: Base64Url, attestationObject: Base64Url, transports: z.array(z.string().max(32)).max(10).optional() }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.looseObject({}),
});
export const PasskeyAuthenticationResponse = z.strictObject({
  id: Base64Url,
  rawId: Base64Url,
  type: z.literal('public-key'),
  response: z.looseObject({
    clientDataJSON: Base64Url,
    authenticatorData: Base64Url,
    signature: Base64Url,
    userHandle: Base64Url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.looseObject({}),
});
export const PasskeyRegisterBody = z.strictObject({
  name: z.string().trim().min(1).max(60),
  response: PasskeyRegistrationResponse,
});
export type PasskeyRegisterBody = z.infer<typeof PasskeyRegisterBody>;
export const PasskeyAuthenticateBody = z.strictObject({ response: PasskeyAuthenticationResponse });
export type PasskeyAuthenticateBody = z.infer<typeof PasskeyAuthenticateBody>;
/** Options for navigator.credentials.create/get, produced by @simplewebauthn/server. */
export const PasskeyOptions = z.looseObject({ challenge: z.string() });
export type PasskeyOptions = z.infer<typeof PasskeyOptions>;

export const Passkey = z.strictObject({
  id: Id,
  name: z.string(),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
});
export type Passkey = z.infer<typeof Passkey>;
export const PasskeyList = z.strictObject({ passkeys: z.array(Passkey) });
export type PasskeyList = z.infer<typeof PasskeyList>;

export const Me = z.strictObject({
  stage: SessionStage,
  account: z.strictObject({
    id: Id,
    email: z.string(),
    displayName: z.string(),
    role: Role,
    departmentId: Id.nullable(),
    verificationLevel: VerificationLevel,
  }),
  organisation: z.strictObject({ id: Id, name: z.string(), settings: OrgSettings }),
  mfa: z.strictObject({
    totp: z.boolean(),
    passkeys: z.number().int(),
    recoveryCodesLeft: z.number().int(),
  }),
  /** Seconds of inactivity after which the server ends this session. */
  idleTimeoutSeconds: z.number().int(),
});
export type Me = z.infer<typeof Me>;

export const SessionInfo = z.strictObject({
  id: Id,
  current: z.boolean(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  ipAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionList = z.strictObject({ sessions: z.array(SessionInfo) });
export type SessionList = z.infer<typeof SessionList>;

