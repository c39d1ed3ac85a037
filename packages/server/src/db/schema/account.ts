import type { AccountStatus, LicenceRegister, Role, VerificationLevel } from '@consilium/protocol';

export interface AccountTable {
  id: string;
  organisation_id: string;
  /** Lower-cased; unique across the deployment (sign-in is by e-mail). */
  email: string;
  display_name: string;
  role: Role;
  department_id: string | null;
  status: AccountStatus;
  /** argon2id PHC string. */
  password_hash: string;
  verification_level: VerificationLevel;
  licence_register: LicenceRegister | null;
  licence_number: string | null;
  verification_evidence: string | null;
  verified_by: string | null;
  verified_at: string | null;
  created_at: string;
}
export const tableName = 'account';
export type PartialDB = { [tableName]: AccountTable };
