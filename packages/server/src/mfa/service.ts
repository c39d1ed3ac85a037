import { randomUUID } from 'node:crypto';
import type { MfaMethod, PasskeyRegisterBody, RecoveryCodes, TotpSetup } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AccountRow } from '../accounts/store.js';
import type { OrganisationTable } from '../db/schema/organisation.js';
import { elevateSession, setChallenge, takeChallenge, type AuthenticatedSession } from '../sessions/service.js';
import * as store from './store.js';
import { endAllSessions } from '../sessions/store.js';
import { checkTotp, newTotpSecret, totpUri } from './totp.js';
import { newRecoveryCodeSet } from './recovery-codes.js';
import * as webauthn from './passkeys.js';

const TOTP_CONTEXT = (accountId: string) => `totp:${accountId}`;

export interface MfaState {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

export async function mfaState(deps: Deps, accountId: string): Promise<MfaState> {
  const [totp, passkeys, recoveryCodesLeft] = await Promise.all([
    store.getTotp(deps.db, accountId),
    store.listPasskeys(deps.db, accountId),
    store.countUnusedRecoveryCodes(deps.db, accountId),
  ]);
  return { totp: Boolean(totp?.confirmed_at), passkeys: passkeys.length, recoveryCodesLeft };
}

export function mfaMethods(state: MfaState): MfaMethod[] {
  const methods: MfaMethod[] = [];
  if (state.totp) methods.push('totp');
  if (state.passkeys > 0) methods.push('passkey');
  if ((state.totp || state.passkeys > 0) && state.recoveryCodesLeft > 0) methods.push('recovery_code');
  return methods;
}

export const hasSecondFactor = (state: MfaState) => state.totp || state.passkeys > 0;

/** Verifies a TOTP code for the account and consumes its time step. */
export async function verifyTotpCode(deps: Deps, accountId: string, code: string): Promise<boolean> {
  const credential = await store.getTotp(deps.db, accountId);
  if (!credential?.confirmed_at) return false;
  const secret = deps.serverKey.open(credential.sealed_secret, TOTP_CONTEXT(accountId));
  const step = await checkTotp(secret, code, deps.now(), credential.last_time_step);
  return step !== null && (await store.advanceTotpStep(deps.db, accountId, step));
}

export async function beginTotpSetup(deps: Deps, auth: AuthenticatedSession): Promise<TotpSetup> {
  const existing = await store.getTotp(deps.db, auth.account.id);
  if (existing?.confirmed_at) throw new ConsiliumError('MFA_ALREADY_ENROLLED', 'an authenticator app is already set up; remove it first');
  const secret = newTotpSecret();
  await store.putPendingTotp(deps.db, {
    account_id: auth.account.id,
    sealed_secret: deps.serverKey.seal(secret, TOTP_CONTEXT(auth.account.id)),
    confirmed_at: null,
    last_time_step: null,
    created_at: iso(deps.now()),
  });
  return { secret, otpauthUri: totpUri(secret, `Consilium (${auth.organisation.name})`, auth.account.email) };
}

export interface EnrolmentResult {
  recoveryCodes: string[];
  /** A new session token when the enrolment completed a forced setup. */
  newToken: string | null;
}

export async function confirmTotpSetup(deps: Deps, auth: AuthenticatedSession, actor: Actor, code: string): Promise<EnrolmentResult> {
  const pending = await store.getTotp(deps.db, auth.account.id);
  if (!pending) throw new ConsiliumError('MFA_NOT_ENROLLED', 'start the authenticator setup first');
  if (pending.confirmed_at) throw new ConsiliumError('MFA_ALREADY_ENROLLED', 'an authenticator app is already set up');
  const secret = deps.serverKey.open(pending.sealed_secret, TOTP_CONTEXT(auth.account.id));
  const step = await checkTotp(secret, code, deps.now(), null);
  if (step === null) throw new ConsiliumError('MFA_INVALID_CODE', 'that code does not match; check the time on your device and try again');
  return inTransaction(deps, async (tx) => {
    await store.confirmTotp(tx.db, auth.account.id, iso(tx.now()), step);
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.totp_enrolled', 'C', { entity: { type: 'account', id: auth.account.id } }));
    return completeEnrolment(tx, auth);
  });
}

/** After a first factor is added: issue recovery codes if none, and finish a forced setup. */
async function completeEnrolment(deps: Deps, auth: AuthenticatedSession): Promise<EnrolmentResult> {
  let recoveryCodes: string[] = [];
  if ((await store.countUnusedRecoveryCodes(deps.db, auth.account.id)) === 0) {
    const set = newRecoveryCodeSet(deps.serverKey, auth.account.id, iso(deps.now()));
    await store.replaceRecoveryCodes(deps.db, auth.account.id, set.rows);
    recoveryCodes = set.display;
  }
  const newToken = auth.session.stage === 'mfa_setup_required' ? await elevateSession(deps, auth.session, 'active') : null;
  return { recoveryCodes, newToken };
}

async function assertMayRemoveFactor(deps: Deps, account: AccountRow, organisation: OrganisationTable, after: MfaState) {
  if (organisation.require_mfa && !hasSecondFactor(after)) {
    throw new ConsiliumError('FORBIDDEN', 'your organisation requires a second factor; add another before removing this one');
  }
  if (!hasSecondFactor(after)) await store.deleteRecoveryCodes(deps.db, account.id);
}

export async function removeTotp(deps: Deps, auth: AuthenticatedSession, actor: Actor): Promise<void> {
  const state = await mfaState(deps, auth.account.id);
  if (!state.totp) throw new ConsiliumError('MFA_NOT_ENROLLED', 'no authenticator app is set up');
  await inTransaction(deps, async (tx) => {
    await assertMayRemoveFactor(tx, auth.account, auth.organisation, { ...state, totp: false });
    await store.deleteTotp(tx.db, auth.account.id);
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.totp_removed', 'D', { entity: { type: 'account', id: auth.account.id } }));
  });
}

export async function regenerateRecoveryCodes(deps: Deps, auth: AuthenticatedSession, actor: Actor): Promise<RecoveryCodes> {
  if (!hasSecondFactor(await mfaState(deps, auth.account.id))) {
    throw new ConsiliumError('MFA_NOT_ENROLLED', 'set up an authenticator app or passkey first');
  }
  const set = newRecoveryCodeSet(deps.serverKey, auth.account.id, iso(deps.now()));
  await inTransaction(deps, async (tx) => {
    await store.replaceRecoveryCodes(tx.db, auth.account.id, set.rows);
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.recovery_codes_generated', 'C', { entity: { type: 'account', id: auth.account.id } }));
  });
  return { recoveryCodes: set.display };
}

export async function passkeyRegistrationOptions(deps: Deps, auth: AuthenticatedSession) {
  const existing = await store.listPasskeys(deps.db, auth.account.id);
  const options = await webauthn.registrationOptions(deps.config, auth.account, existing);
  await setChallenge(deps, auth.session.id, options.challenge);
  return options;
}

export async function registerPasskey(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: PasskeyRegisterBody): Promise<EnrolmentResult> {
  const challenge = await takeChallenge(deps, auth.session);
  const credential = await webauthn.verifyRegistration(deps.config, body, challenge);
  if (await store.findPasskeyByCredentialId(deps.db, credential.credentialId)) {
    throw new ConsiliumError('CONFLICT', 'this passkey is already registered');
  }
  const id = randomUUID();
  return inTransaction(deps, async (tx) => {
    await store.insertPasskey(tx.db, {
    id,
    account_id: auth.account.id,
    credential_id: credential.credentialId,
    public_key: credential.publicKey,
    sign_count: credential.signCount,
    transports: credential.transports,
    name: body.name,
    created_at: iso(tx.now()),
    last_used_at: null,
    });
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.passkey_added', 'C', { entity: { type: 'passkey', id }, detail: { name: body.name } }));
    return completeEnrolment(tx, auth);
  });
}

export async function listPasskeys(deps: Deps, accountId: string) {
  const rows = await store.listPasskeys(deps.db, accountId);
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
}

export async function removePasskey(deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string): Promise<void> {
  const state = await mfaState(deps, auth.account.id);
  const passkeys = await store.listPasskeys(deps.db, auth.account.id);
  if (!passkeys.some((p) => p.id === id)) throw notFound('passkey');
  await inTransaction(deps, async (tx) => {
    await assertMayRemoveFactor(tx, auth.account, auth.organisation, { ...state, passkeys: state.passkeys - 1 });
    await store.deletePasskey(tx.db, auth.account.id, id);
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.passkey_removed', 'D', { entity: { type: 'passkey', id } }));
  });
}

/** Admin or CLI reset for a lost device: removes every factor and ends every session. */
export async function resetMfa(deps: Deps, actor: Actor, account: Pick<AccountRow, 'id' | 'organisation_id'>): Promise<void> {
  await inTransaction(deps, async (tx) => {
    await store.deleteTotp(tx.db, account.id);
    await store.deleteAllPasskeys(tx.db, account.id);
    await store.deleteRecoveryCodes(tx.db, account.id);
    await endAllSessions(tx.db, account.id, 'mfa_reset', iso(tx.now()));
    await recordAudit(tx, auditEvent(tx, actor, 'mfa.reset', 'D', { organisationId: account.organisation_id, entity: { type: 'account', id: account.id } }));
  });
}
