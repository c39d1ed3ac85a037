import { randomUUID } from 'node:crypto';
import type { ErrorCode, SessionInfo, SessionStage } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import { getAccount, type AccountRow } from '../accounts/store.js';
import { getOrganisation } from '../orgs/store.js';
import type { OrganisationTable } from '../db/schema/organisation.js';
import * as store from './store.js';
import { touchSession } from './touch.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';

/** A session that has not passed its second factor lapses after this long. */
const PENDING_STAGE_SECONDS = 10 * 60;
/** last_seen_at is written at most this often, so reads do not turn into writes. */
const TOUCH_EVERY_SECONDS = 15;

export interface Client {
  ip: string | null;
  userAgent: string | null;
}

export interface AuthenticatedSession {
  session: store.SessionRow;
  account: AccountRow;
  organisation: OrganisationTable;
}

export async function createSession(deps: Deps, accountId: string, stage: SessionStage, client: Client) {
  const now = deps.now();
  const token = newToken();
  const lifetime = stage === 'active' ? deps.config.sessionMaxHours * 3600 : PENDING_STAGE_SECONDS;
  const row: store.SessionRow = {
    id: randomUUID(),
    token_hash: hashToken(token),
    account_id: accountId,
    stage,
    created_at: iso(now),
    last_seen_at: iso(now),
    expires_at: iso(addSeconds(now, lifetime)),
    ip_address: client.ip,
    user_agent: client.userAgent?.slice(0, 300) ?? null,
    webauthn_challenge: null,
    webauthn_challenge_expires_at: null,
    device_id: null,
    ended_at: null,
    end_reason: null,
  };
  await store.insertSession(deps.db, row);
  return { token, session: row };
}

/**
 * Moves a session to a new stage under a fresh token (the old token stops working), so a token
 * seen before the second factor cannot ride the upgrade.
 */
export async function elevateSession(deps: Deps, session: store.SessionRow, stage: SessionStage): Promise<string> {
  const now = deps.now();
  const token = newToken();
  const lifetime = stage === 'active' ? deps.config.sessionMaxHours * 3600 : PENDING_STAGE_SECONDS;
  await store.updateSession(deps.db, session.id, {
    token_hash: hashToken(token),
    stage,
    last_seen_at: iso(now),
    expires_at: iso(addSeconds(now, lifetime)),
    webauthn_challenge: null,
    webauthn_challenge_expires_at: null,
  });
  return token;
}

export function idleLimitSeconds(session: Pick<store.SessionRow, 'stage'>, organisation: OrganisationTable): number {
  return session.stage === 'active' ? organisation.idle_timeout_minutes * 60 : PENDING_STAGE_SECONDS;
}

/**
 * Resolves a cookie token to a live session. Ends sessions that passed their absolute lifetime or
 * their organisation's idle limit (HIPAA 164.312(a)(2)(iii) automatic logoff).
 */
export async function authenticate(deps: Deps, token: string, client: Client = { ip: null, userAgent: null }): Promise<AuthenticatedSession> {
  const session = await store.getLiveSessionByTokenHash(deps.db, hashToken(token));
  if (!session) throw new ConsiliumError('UNAUTHENTICATED', 'sign in first');
  const account = await getAccount(deps.db, session.account_id);
  const organisation = account && (await getOrganisation(deps.db, account.organisation_id));
  const now = deps.now();
  const end = async (reason: string) => {
    const actor: Actor = { accountId: session.account_id, role: account?.role ?? null, organisationId: account?.organisation_id ?? null, ip: client.ip };
    await inTransaction(deps, async (tx) => {
      await store.updateSession(tx.db, session.id, { ended_at: iso(now), end_reason: reason });
      await recordAudit(tx, auditEvent(tx, actor, 'auth.session_expired', 'E', { entity: { type: 'session', id: session.id }, detail: { reason } }));
    });
    return new ConsiliumError('SESSION_EXPIRED', 'your session has ended; sign in again');
  };
  if (!account || !organisation || account.status !== 'active') throw await end('disabled');
  if (session.expires_at <= iso(now)) throw await end('expired');
  const idleDeadline = addSeconds(new Date(session.last_seen_at), idleLimitSeconds(session, organisation));
  if (idleDeadline <= now) throw await end('idle');
  if (now.getTime() - new Date(session.last_seen_at).getTime() >= TOUCH_EVERY_SECONDS * 1000) {
    await touchSession(deps.db, session.id, iso(now));
    session.last_seen_at = iso(now);
  }
  return { session, account, organisation };
}

/** The account's sessions that still work: not ended, not expired, not idle past the limit. */
export async function listSessions(deps: Deps, current: store.SessionRow, organisation: OrganisationTable): Promise<SessionInfo[]> {
  const rows = await store.listLiveSessions(deps.db, current.account_id);
  const now = deps.now();
  return rows
    .filter((r) => r.expires_at > iso(now) && addSeconds(new Date(r.last_seen_at), idleLimitSeconds(r, organisation)) > now)
    .map((r) => ({
      id: r.id,
      current: r.id === current.id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      ipAddress: r.ip_address,
      userAgent: r.user_agent,
    }));
}

export async function revokeOwnSession(deps: Deps, actor: Actor, sessionId: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const ended = await store.endSession(tx.db, actor.accountId ?? '', sessionId, 'revoked', iso(tx.now()));
    if (!ended) throw notFound('session');
    await recordAudit(tx, auditEvent(tx, actor, 'auth.session_revoked', 'U', { entity: { type: 'session', id: sessionId } }));
  });
}

export async function signOut(deps: Deps, actor: Actor, session: store.SessionRow): Promise<void> {
  await inTransaction(deps, async (tx) => {
    await store.endSession(tx.db, session.account_id, session.id, 'signed_out', iso(tx.now()));
    await recordAudit(tx, auditEvent(tx, actor, 'auth.sign_out', 'E', { entity: { type: 'session', id: session.id } }));
  });
}

export async function setChallenge(deps: Deps, sessionId: string, challenge: string): Promise<void> {
  await store.updateSession(deps.db, sessionId, {
    webauthn_challenge: challenge,
    webauthn_challenge_expires_at: iso(addSeconds(deps.now(), 5 * 60)),
  });
}

/** Returns the pending challenge once and clears it, so a response cannot be replayed. */
export async function takeChallenge(deps: Deps, session: store.SessionRow, failure: ErrorCode = 'PASSKEY_VERIFICATION_FAILED'): Promise<string> {
  const { webauthn_challenge: challenge, webauthn_challenge_expires_at: expiresAt } = session;
  await store.updateSession(deps.db, session.id, { webauthn_challenge: null, webauthn_challenge_expires_at: null });
  if (!challenge || !expiresAt || expiresAt <= iso(deps.now())) {
    throw new ConsiliumError(failure, 'no challenge is pending; start again');
  }
  return challenge;
}
