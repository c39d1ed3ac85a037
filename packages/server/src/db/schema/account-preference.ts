/** What an account chose for itself (migration 018); no row means the defaults. */
export interface AccountPreferenceTable {
  account_id: string;
  /** "Send read receipts", 0/1; reciprocal (see conversations/receipts.ts). */
  read_receipts: number;
  updated_at: string;
}
export const tableName = 'account_preference';
export type PartialDB = { [tableName]: AccountPreferenceTable };
