import type { Role } from '@consilium/protocol';

export interface InviteTable {
  id: string;
  organisation_id: string;
  email: string;
  role: Role;
  department_id: string | null;
  /** SHA-256 of the one-time token in the link. */
  token_hash: string;
  invited_by: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
  created_at: string;
}
export const tableName = 'invite';
export type PartialDB = { [tableName]: InviteTable };
