export interface DeviceTable {
  id: string;
  account_id: string;
  name: string;
  ciphersuite: number;
  /** MLS signature public key, base64. */
  signature_public_key: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
}
export interface KeyPackageTable {
  /** KeyPackageRef (RFC 9420 §5.2), hex. */
  ref: string;
  device_id: string;
  account_id: string;
  /** The MLSMessage bytes, base64: handed out as uploaded. */
  data: string;
  last_resort: number;
  not_after: string;
  created_at: string;
  claimed_at: string | null;
  claimed_by: string | null;
}
export interface ConversationTable {
  id: string;
  organisation_id: string;
  kind: string;
  /** For direct conversations: the two account ids, sorted and joined, so a pair has one. */
  direct_key: string | null;
  created_by: string;
  created_at: string;
  /** The epoch the next commit must be made in (the group's current epoch). */
  epoch: number;
  last_seq: number;
  /** Application messages of older epochs are refused: a commit at this epoch removed devices that hold their keys. */
  min_send_epoch: number;
  /** Application messages older than this many seconds are deleted (null: kept). */
  expiry_seconds?: number | null;
}
export interface ConversationMemberTable {
  conversation_id: string;
  account_id: string;
  role: string;
  added_at: string;
  removed_at: string | null;
}
export interface ConversationDeviceTable {
  conversation_id: string;
  device_id: string;
  account_id: string;
  /** Messages with seq above this are for the device (it joined by the commit at this seq). */
  joined_seq: number;
  removed_seq: number | null;
}
export interface MlsMessageTable {
  conversation_id: string;
  seq: number;
  client_message_id: string;
  sender_device_id: string;
  sender_account_id: string;
  kind: string;
  epoch: number;
  /** Ciphertext (an MLS PrivateMessage), base64. The server cannot read it. */
  body: string;
  size: number;
  created_at: string;
}
export interface WelcomeTable {
  id: string;
  conversation_id: string;
  device_id: string;
  seq: number;
  epoch: number;
  body: string;
  created_at: string;
  consumed_at: string | null;
}
export interface DeliveryCursorTable {
  device_id: string;
  conversation_id: string;
  acked_seq: number;
}
/** How far an account has read a conversation (migration 009). */
export interface ReadMarkerTable {
  conversation_id: string;
  account_id: string;
  read_seq: number;
  read_at: string;
}
export type PartialDB = {
  device: DeviceTable;
  key_package: KeyPackageTable;
  conversation: ConversationTable;
  conversation_member: ConversationMemberTable;
  conversation_device: ConversationDeviceTable;
  mls_message: MlsMessageTable;
  welcome: WelcomeTable;
  delivery_cursor: DeliveryCursorTable;
  read_marker: ReadMarkerTable;
};
