import type { SessionStage } from '@consilium/protocol';

export interface SessionTable {
  id: string;
  /** SHA-256 of the cookie token; the token itself is never stored. */
  token_hash: string;
  account_id: string;
  stage: SessionStage;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip_address: string | null;
  user_agent: string | null;
  /** Pending WebAuthn challenge (registration or authentication) and when it lapses. */
  webauthn_challenge: string | null;
  webauthn_challenge_expires_at: string | null;
  /** The MLS device this browser session speaks for, once registered or attached. */
  device_id: string | null;
  ended_at: string | null;
  /** signed_out | revoked | idle | expired | mfa_reset | disabled */
  end_reason: string | null;
}
export const tableName = 'session';
export type PartialDB = { [tableName]: SessionTable };
