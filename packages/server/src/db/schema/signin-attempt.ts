export interface SigninAttemptTable {
  id: string;
  /** The e-mail as typed (lower-cased), whether or not an account has it. */
  email: string;
  ip_address: string;
  /** password | mfa */
  factor: string;
  succeeded: number;
  at: string;
}
export const tableName = 'signin_attempt';
export type PartialDB = { [tableName]: SigninAttemptTable };
