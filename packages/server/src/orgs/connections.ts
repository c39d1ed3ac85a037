import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { OrgConnection, ProposeConnectionBody } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { Db } from '../db/database.js';
import type { DatabaseSchema } from '../db/schema/index.js';
import type { OrgConnectionTable } from '../db/schema/org-connection.js';
import { getOrganisation, getOrganisationBySlug, lockOrganisation } from './store.js';

/**
 * Explicit connections between organisations. The rule everywhere else stays "same organisation";
 * an `active` connection is the one exception, and it only opens messaging (directory search of
 * verified colleagues, conversations, their device keys). Admin views, audit logs, cases and
 * rosters never cross.
 */

type ConnectionWhere = ExpressionBuilder<DatabaseSchema, 'org_connection'>;

/** Connections that `organisationId` is a side of. */
const involving = (organisationId: string) => (eb: ConnectionWhere) =>
  eb.or([eb('proposer_org_id', '=', organisationId), eb('target_org_id', '=', organisationId)]);

/** Connections between `a` and `b`, whichever of them proposed. */
const between = (a: string, b: string) => (eb: ConnectionWhere) =>
  eb.or([eb.and([eb('proposer_org_id', '=', a), eb('target_org_id', '=', b)]), eb.and([eb('proposer_org_id', '=', b), eb('target_org_id', '=', a)])]);

/** Organisations `organisationId` is actively connected to. */
export async function connectedOrganisationIds(db: Db, organisationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('org_connection')
    .select(['proposer_org_id', 'target_org_id'])
    .where('status', '=', 'active')
    .where(involving(organisationId))
    .execute();
  return [...new Set(rows.map((r) => (r.proposer_org_id === organisationId ? r.target_org_id : r.proposer_org_id)))];
}

/** True for the same organisation, or two with an active connection. */
export async function mayMessageAcross(db: Db, from: string, to: string): Promise<boolean> {
  if (from === to) return true;
  const row = await db
    .selectFrom('org_connection')
    .select('id')
    .where('status', '=', 'active')
    .where(between(from, to))
    .executeTakeFirst();
  return row !== undefined;
}

async function describe(db: Db, row: OrgConnectionTable, organisationId: string): Promise<OrgConnection> {
  const outgoing = row.proposer_org_id === organisationId;
  const peer = await getOrganisation(db, outgoing ? row.target_org_id : row.proposer_org_id);
  return {
    id: row.id,
    peer: { id: peer!.id, name: peer!.name, slug: peer!.slug },
    direction: outgoing ? 'outgoing' : 'incoming',
    status: row.status,
    proposedAt: row.proposed_at,
    acceptedAt: row.accepted_at,
    endedAt: row.ended_at,
  };
}

export async function listConnections(deps: Deps, organisationId: string): Promise<OrgConnection[]> {
  const rows = await deps.db
    .selectFrom('org_connection')
    .selectAll()
    .where(involving(organisationId))
    .orderBy('proposed_at', 'desc')
    .execute();
  return Promise.all(rows.map((r) => describe(deps.db, r, organisationId)));
}

/** Both organisations' audit logs record every step, each naming the other side. */
function auditBoth(deps: Deps, actor: Actor, type: 'org.connection_proposed' | 'org.connection_accepted' | 'org.connection_ended', row: OrgConnectionTable, detail: Record<string, string>) {
  return [row.proposer_org_id, row.target_org_id].map((organisationId) =>
    auditEvent(deps, actor, type, type === 'org.connection_proposed' ? 'C' : 'U', {
      organisationId,
      entity: { type: 'org_connection', id: row.id },
      detail: {
        ...detail,
        byOrganisationId: actor.organisationId ?? '',
        peerOrganisationId: organisationId === row.proposer_org_id ? row.target_org_id : row.proposer_org_id,
      },
    }),
  );
}

async function lockBoth(deps: Deps, a: string, b: string) {
  for (const id of [a, b].sort()) await lockOrganisation(deps, id);
}

export async function proposeConnection(deps: Deps, actor: Actor, body: ProposeConnectionBody): Promise<OrgConnection> {
  const own = actor.organisationId ?? '';
  const key = body.organisation.toLowerCase();
  const target = (/^[0-9a-f-]{36}$/.test(key) && (await getOrganisation(deps.db, key))) || (await getOrganisationBySlug(deps.db, key));
  if (!target) throw notFound('organisation');
  if (target.id === own) throw new ConsiliumError('VALIDATION_FAILED', 'an organisation cannot connect to itself');
  const row: OrgConnectionTable = {
    id: randomUUID(),
    proposer_org_id: own,
    target_org_id: target.id,
    status: 'proposed',
    proposed_by: actor.accountId ?? '',
    proposed_at: iso(deps.now()),
    accepted_by: null,
    accepted_at: null,
    ended_by: null,
    ended_at: null,
  };
  await inTransaction(deps, async (tx) => {
    await lockBoth(tx, own, target.id);
    const open = await tx.db
      .selectFrom('org_connection')
      .select('id')
      .where('status', '!=', 'ended')
      .where(between(own, target.id))
      .executeTakeFirst();
    if (open) throw new ConsiliumError('CONFLICT', 'a connection with this organisation is already proposed or active');
    await tx.db.insertInto('org_connection').values(row).execute();
    await recordAudit(tx, ...auditBoth(tx, actor, 'org.connection_proposed', row, {}));
  });
  return describe(deps.db, row, own);
}

/** The connection, if the caller's organisation is one of its two sides; otherwise it does not exist for them. */
async function connectionOf(db: Db, organisationId: string, id: string): Promise<OrgConnectionTable> {
  const row = await db.selectFrom('org_connection').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (row.proposer_org_id !== organisationId && row.target_org_id !== organisationId)) throw notFound('connection');
  return row;
}

/**
 * The connection, read again under both organisations' locks (taken in a fixed order), so that a
 * concurrent accept or end cannot act on a status it read before the other committed.
 */
async function lockedConnection(tx: Deps, ownOrganisationId: string, id: string): Promise<OrgConnectionTable> {
  const before = await connectionOf(tx.db, ownOrganisationId, id);
  await lockBoth(tx, before.proposer_org_id, before.target_org_id);
  return connectionOf(tx.db, ownOrganisationId, id);
}

export async function acceptConnection(deps: Deps, actor: Actor, id: string): Promise<OrgConnection> {
  const own = actor.organisationId ?? '';
  let result: OrgConnectionTable | undefined;
  await inTransaction(deps, async (tx) => {
    const row = await lockedConnection(tx, own, id);
    if (row.target_org_id !== own) throw new ConsiliumError('FORBIDDEN', 'only an admin of the invited organisation accepts a connection');
    if (row.status !== 'proposed') throw new ConsiliumError('CONFLICT', `the connection is ${row.status}`);
    result = { ...row, status: 'active', accepted_by: actor.accountId, accepted_at: iso(tx.now()) };
    await tx.db.updateTable('org_connection').set({ status: 'active', accepted_by: result.accepted_by, accepted_at: result.accepted_at }).where('id', '=', id).execute();
    await recordAudit(tx, ...auditBoth(tx, actor, 'org.connection_accepted', result, {}));
  });
  return describe(deps.db, result!, own);
}

/**
 * Ends a proposed (withdrawn or declined) or active connection, from either side. From then on no
 * new conversation, member or message crosses; existing conversations stay readable by their members.
 */
export async function endConnection(deps: Deps, actor: Actor, id: string): Promise<OrgConnection> {
  const own = actor.organisationId ?? '';
  let result: OrgConnectionTable | undefined;
  await inTransaction(deps, async (tx) => {
    const row = await lockedConnection(tx, own, id);
    if (row.status === 'ended') throw new ConsiliumError('CONFLICT', 'the connection has ended already');
    result = { ...row, status: 'ended', ended_by: actor.accountId, ended_at: iso(tx.now()) };
    await tx.db.updateTable('org_connection').set({ status: 'ended', ended_by: result.ended_by, ended_at: result.ended_at }).where('id', '=', id).execute();
    await recordAudit(tx, ...auditBoth(tx, actor, 'org.connection_ended', result, { previousStatus: row.status }));
  });
  return describe(deps.db, result!, own);
}
