import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { Ok, PasskeyAuthenticateBody, RecoveryCodeBody, SignInBody, SignInResult, TotpBody } from '@consilium/protocol';
import { http } from './client';

export const signIn = (body: SignInBody) => http.post<SignInResult>('/auth/sign-in', body);

export const signOut = () => http.post<Ok>('/auth/sign-out');

export const verifyTotp = (body: TotpBody) => http.post<Ok>('/auth/mfa/totp', body);

export const verifyRecoveryCode = (body: RecoveryCodeBody) => http.post<Ok>('/auth/mfa/recovery-code', body);

/** The server sends @simplewebauthn/server's authentication options as they are. */
export const passkeyChallenge = () => http.post<PublicKeyCredentialRequestOptionsJSON>('/auth/mfa/passkey/options');

export const verifyPasskey = (body: PasskeyAuthenticateBody) => http.post<Ok>('/auth/mfa/passkey', body);
