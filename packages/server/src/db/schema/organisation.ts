export interface OrganisationTable {
  id: string;
  name: string;
  slug: string;
  require_mfa: number;
  idle_timeout_minutes: number;
  created_at: string;
}
export const tableName = 'organisation';
export type PartialDB = { [tableName]: OrganisationTable };
