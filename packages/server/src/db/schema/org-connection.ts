export interface OrgConnectionTable {
  id: string;
  proposer_org_id: string;
  target_org_id: string;
  status: 'proposed' | 'active' | 'ended';
  proposed_by: string;
  proposed_at: string;
  accepted_by: string | null;
  accepted_at: string | null;
  ended_by: string | null;
  ended_at: string | null;
}
export const tableName = 'org_connection';
export type PartialDB = { [tableName]: OrgConnectionTable };
