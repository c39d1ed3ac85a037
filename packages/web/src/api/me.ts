import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import type { Me, Ok, PasskeyList, PasskeyRegisterBody, Preferences, RecoveryCodes, SessionList, TotpBody, TotpSetup, UpdatePreferencesBody } from '@consilium/protocol';
import { http, segment } from './client';

export const getMe = () => http.get<Me>('/me');

export const getPreferences = () => http.get<Preferences>('/me/preferences');

export const updatePreferences = (body: UpdatePreferencesBody) => http.patch<Preferences>('/me/preferences', body);

export const listSessions = () => http.get<SessionList>('/me/sessions');

export const endSession = (id: string) => http.delete<Ok>(`/me/sessions/${segment(id)}`);

export const beginTotpSetup = () => http.post<TotpSetup>('/me/mfa/totp/setup');

/** Confirms the pending authenticator; recovery codes come back when the account had none. */
export const confirmTotpSetup = (body: TotpBody) => http.post<RecoveryCodes>('/me/mfa/totp/confirm', body);

export const removeTotp = () => http.delete<Ok>('/me/mfa/totp');

export const regenerateRecoveryCodes = () => http.post<RecoveryCodes>('/me/mfa/recovery-codes');

export const listPasskeys = () => http.get<PasskeyList>('/me/passkeys');

/** The server sends @simplewebauthn/server's registration options as they are. */
export const passkeyRegistrationOptions = () => http.post<PublicKeyCredentialCreationOptionsJSON>('/me/passkeys/options');

export const registerPasskey = (body: PasskeyRegisterBody) => http.post<RecoveryCodes>('/me/passkeys', body);

export const removePasskey = (id: string) => http.delete<Ok>(`/me/passkeys/${segment(id)}`);
