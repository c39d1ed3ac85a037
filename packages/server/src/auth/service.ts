import type { PasskeyAuthenticateBody, SignInBody, SignInResult, SessionStage } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import { getAccountByEmail } from '../accounts/store.js';
import { getOrganisation } from '../orgs/store.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { assertNotThrottled, recordAttempt } from './rate-limit.js';
import { createSession, elevateSession, setChallenge, takeChallenge, type AuthenticatedSession, type Client } from '../sessions/service.js';
import { hasSecondFactor, mfaMethods, mfaState, verifyTotpCode } from '../mfa/service.js';
import * as mfaStore from '../mfa/store.js';
import { recoveryCodeHash } from '../mfa/recovery-codes.js';
import * as webauthn from '../mfa/passkeys.js';
import { forgetFailures } from './store.js';

const invalid = () => new ConsiliumError('INVALID_CREDENTIALS', 'e-mail or password is wrong');

export async function signIn(deps: Deps, body: SignInBody, client: Client): Promise<{ token: string; result: SignInResult }> {
  const ip = client.ip ?? 'unknown';
  await assertNotThrottled(deps, body.email, ip);
  const account = await getAccountByEmail(deps.db, body.email);
  if (!account) {
    await burnPasswordCheck(body.password);
    await recordAttempt(deps, body.email, ip, 'password', false);
    throw invalid();
  }
  if (!(await verifyPassword(account.password_hash, body.password))) {
    await recordAttempt(deps, body.email, ip, 'password', false);
    throw invalid();
  }
  if (account.status !== 'active') throw new ConsiliumError('FORBIDDEN', 'this account is disabled; ask your administrator');
  const organisation = await getOrganisation(deps.db, account.organisation_id);
  if (!organisation) throw invalid();

  const state = await mfaState(deps, account.id);
  const stage: SessionStage = hasSecondFactor(state)
    ? 'mfa_required'
    : organisation.require_mfa
      ? 'mfa_setup_required'
      : 'active';
  await recordAttempt(deps, body.email, ip, 'password', true);
  if (stage === 'active') await forgetFailures(deps.db, body.email);
  const { token } = await createSession(deps, account.id, stage, client);
  return { token, result: { stage, mfaMethods: stage === 'mfa_required' ? mfaMethods(state) : [] } };
}

/** Runs one second-factor check under the sign-in throttle; success upgrades the session. */
async function secondFactor(deps: Deps, auth: AuthenticatedSession, client: Client, check: () => Promise<boolean>): Promise<string> {
  if (auth.session.stage !== 'mfa_required') throw new ConsiliumError('CONFLICT', 'this session is not waiting for a second factor');
  const ip = client.ip ?? 'unknown';
  await assertNotThrottled(deps, auth.account.email, ip);
  const ok = await check();
  await recordAttempt(deps, auth.account.email, ip, 'mfa', ok);
  if (!ok) throw new ConsiliumError('MFA_INVALID_CODE', 'that code is not valid');
  return elevateSession(deps, auth.session, 'active');
}

export function verifyTotp(deps: Deps, auth: AuthenticatedSession, client: Client, code: string): Promise<string> {
  return secondFactor(deps, auth, client, () => verifyTotpCode(deps, auth.account.id, code));
}

export function verifyRecoveryCode(deps: Deps, auth: AuthenticatedSession, client: Client, code: string): Promise<string> {
  return secondFactor(deps, auth, client, () =>
    mfaStore.consumeRecoveryCode(deps.db, auth.account.id, recoveryCodeHash(deps.serverKey, auth.account.id, code), iso(deps.now())),
  );
}

export async function passkeyChallenge(deps: Deps, auth: AuthenticatedSession) {
  if (auth.session.stage !== 'mfa_required') throw new ConsiliumError('CONFLICT', 'this session is not waiting for a second factor');
  const passkeys = await mfaStore.listPasskeys(deps.db, auth.account.id);
  if (passkeys.length === 0) throw new ConsiliumError('MFA_NOT_ENROLLED', 'this account has no passkey');
  const options = await webauthn.authenticationOptions(deps.config, passkeys);
  await setChallenge(deps, auth.session.id, options.challenge);
  return options;
}

export function verifyPasskey(deps: Deps, auth: AuthenticatedSession, client: Client, body: PasskeyAuthenticateBody): Promise<string> {
  return secondFactor(deps, auth, client, async () => {
    const challenge = await takeChallenge(deps, auth.session);
    const passkey = await mfaStore.getPasskeyByCredentialId(deps.db, auth.account.id, body.response.id);
    if (!passkey) return false;
    try {
      const counter = await webauthn.verifyAuthentication(deps.config, body, challenge, passkey);
      await mfaStore.recordPasskeyUse(deps.db, passkey.id, counter, iso(deps.now()));
      return true;
    } catch {
      return false;
    }
  });
}
