import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { ConsistencyProofQuery, InclusionProofQuery } from './audit.js';

/**
 * Explicit connections between two organisations (issue 3): an admin of one proposes, an admin of
 * the other accepts, either ends it. While `active`, members may find the other organisation's
 * verified colleagues in the directory and message them; nothing else crosses (admin views, audit,
 * cases and rosters stay per organisation).
 */
export const ConnectionStatus = z.enum(['proposed', 'active', 'ended']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

export const OrgConnection = z.strictObject({
  id: Id,
  /** The other organisation, as the caller sees it. */
  peer: z.strictObject({ id: Id, name: z.string(), slug: z.string() }),
  /** `outgoing`: the caller's organisation proposed it; `incoming`: the peer did, and the caller's admins may accept it. */
  direction: z.enum(['outgoing', 'incoming']),
  status: ConnectionStatus,
  proposedAt: Timestamp,
  acceptedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
});
export type OrgConnection = z.infer<typeof OrgConnection>;

export const OrgConnectionList = z.strictObject({ connections: z.array(OrgConnection) });
export type OrgConnectionList = z.infer<typeof OrgConnectionList>;

export const ProposeConnectionBody = z.strictObject({
  /** The other organisation's id or slug. */
  organisation: z.string().trim().min(1).max(100),
});
export type ProposeConnectionBody = z.infer<typeof ProposeConnectionBody>;

/**
 * The key log to read (`keys/<organisation>`): the caller's own by default; a connected
 * organisation's, read-only, so a client checks a colleague's device key against the log of the
 * organisation that registered it.
 */
export const KeyLogQuery = z.strictObject({ organisationId: Id.optional() });
export type KeyLogQuery = z.infer<typeof KeyLogQuery>;
export const KeyInclusionProofQuery = InclusionProofQuery.extend({ organisationId: Id.optional() });
export const KeyConsistencyProofQuery = ConsistencyProofQuery.extend({ organisationId: Id.optional() });
