import type { MfaMethod, PasskeyAuthenticateBody, SignInBody, SignInResult, SessionStage } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { getAccountByEmail, type AccountRow } from '../accounts/store.js';
import { getOrganisation } from '../orgs/store.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { assertNotThrottled, recordAttempt } from './rate-limit.js';
import { createSession, elevateSession, setChallenge, takeChallenge, type AuthenticatedSession, type Client } from '../sessions/service.js';
import { hasSecondFactor, mfaMethods, mfaState, verifyTotpCode } from '../mfa/service.js';
import * as mfaStore from '../mfa/store.js';
import { recoveryCodeHash } from '../mfa/recovery-codes.js';
import * as webauthn from '../mfa/passkeys.js';
import { forgetFailures } from './store.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';

const invalid = () => new ConsiliumError('INVALID_CREDENTIALS', 'e-mail or password is wrong');

function signInActor(account: AccountRow | undefined, email: string, client: Client): Actor {
  return { accountId: account?.id ?? null, role: account?.role ?? null, organisationId: account?.organisation_id ?? null, ip: client.ip, email };
}

export async function signIn(deps: Deps, body: SignInBody, client: Client): Promise<{ token: string; result: SignInResult }> {
  const ip = client.ip ?? 'unknown';
  const account = await getAccountByEmail(deps.db, body.email);
  const actor = signInActor(account, body.email, client);
  const fail = async (reason: string, error: ConsiliumError) => {
    await recordAudit(deps, auditEvent(deps, actor, 'auth.sign_in', 'E', { outcome: 'failure', detail: { reason } }));
    return error;
  };
  try {
    await assertNotThrottled(deps, body.email, ip);
  } catch (err) {
    throw err instanceof ConsiliumError ? await fail('rate_limited', err) : err;
  }
  if (!account) {
    await burnPasswordCheck(body.password);
    await recordAttempt(deps, body.email, ip, 'password', false);
    throw await fail('unknown_account', invalid());
  }
  if (!(await verifyPassword(account.password_hash, body.password))) {
    await recordAttempt(deps, body.email, ip, 'password', false);
    throw await fail('wrong_password', invalid());
  }
  if (account.status !== 'active') throw await fail('account_disabled', new ConsiliumError('FORBIDDEN', 'this account is disabled; ask your administrator'));
  const organisation = await getOrganisation(deps.db, account.organisation_id);
  if (!organisation) throw invalid();

  const state = await mfaState(deps, account.id);
  const stage: SessionStage = hasSecondFactor(state) ? 'mfa_required' : organisation.require_mfa ? 'mfa_setup_required' : 'active';
  return inTransaction(deps, async (tx) => {
    await recordAttempt(tx, body.email, ip, 'password', true);
    if (stage === 'active') await forgetFailures(tx.db, body.email);
    const { token, session } = await createSession(tx, account.id, stage, client);
    await recordAudit(tx, auditEvent(tx, actor, 'auth.sign_in', 'E', { entity: { type: 'session', id: session.id }, detail: { stage } }));
    return { token, result: { stage, mfaMethods: stage === 'mfa_required' ? mfaMethods(state) : [] } };
  });
}

export function sessionActor(auth: AuthenticatedSession, client: Client): Actor {
  return { accountId: auth.account.id, role: auth.account.role, organisationId: auth.account.organisation_id, ip: client.ip };
}

/** Runs one second-factor check under the sign-in throttle; success upgrades the session. */
async function secondFactor(deps: Deps, auth: AuthenticatedSession, client: Client, method: MfaMethod, check: () => Promise<boolean>): Promise<string> {
  if (auth.session.stage !== 'mfa_required') throw new ConsiliumError('CONFLICT', 'this session is not waiting for a second factor');
  const ip = client.ip ?? 'unknown';
  const actor = sessionActor(auth, client);
  const entity = { type: 'session', id: auth.session.id };
  try {
    await assertNotThrottled(deps, auth.account.email, ip);
  } catch (err) {
    await recordAudit(deps, auditEvent(deps, actor, 'auth.second_factor', 'E', { outcome: 'failure', entity, detail: { method, reason: 'rate_limited' } }));
    throw err;
  }
  const ok = await check();
  if (!ok) {
    await recordAttempt(deps, auth.account.email, ip, 'mfa', false);
    await recordAudit(deps, auditEvent(deps, actor, 'auth.second_factor', 'E', { outcome: 'failure', entity, detail: { method } }));
    throw new ConsiliumError('MFA_INVALID_CODE', 'that code is not valid');
  }
  return inTransaction(deps, async (tx) => {
    await recordAttempt(tx, auth.account.email, ip, 'mfa', true);
    await recordAudit(tx, auditEvent(tx, actor, 'auth.second_factor', 'E', { entity, detail: { method } }));
    return elevateSession(tx, auth.session, 'active');
  });
}

export function verifyTotp(deps: Deps, auth: AuthenticatedSession, client: Client, code: string): Promise<string> {
  return secondFactor(deps, auth, client, 'totp', () => verifyTotpCode(deps, auth.account.id, code));
}

export function verifyRecoveryCode(deps: Deps, auth: AuthenticatedSession, client: Client, code: string): Promise<string> {
  return secondFactor(deps, auth, client, 'recovery_code', () =>
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
  return secondFactor(deps, auth, client, 'passkey', async () => {
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
