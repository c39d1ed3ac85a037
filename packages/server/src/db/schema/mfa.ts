export interface TotpCredentialTable {
  account_id: string;
  /** Base32 secret sealed with the server secret key (AES-256-GCM). */
  sealed_secret: string;
  confirmed_at: string | null;
  /** Last RFC 6238 time step accepted: a code is never accepted twice (replay protection). */
  last_time_step: number | null;
  created_at: string;
}
export interface RecoveryCodeTable {
  id: string;
  account_id: string;
  /** HMAC-SHA-256 of the normalised code under the server secret key. */
  code_hash: string;
  used_at: string | null;
  created_at: string;
}
export interface PasskeyTable {
  id: string;
  account_id: string;
  /** Credential ID, base64url, as the authenticator gave it. */
  credential_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  sign_count: number;
  transports: string | null;
  name: string;
  created_at: string;
  last_used_at: string | null;
}
export type PartialDB = {
  totp_credential: TotpCredentialTable;
  recovery_code: RecoveryCodeTable;
  passkey: PasskeyTable;
};
