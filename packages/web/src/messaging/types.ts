import type { AttachmentDescriptor } from '@consilium/protocol';

/** What the messenger shows; made by the lazily loaded engine, read by the React views. */
export interface ThreadMessage {
  /** Stable across saves: the client message id of own messages, conversation:seq of others. */
  key: string;
  /** The server's sequence number; null while an own message is on its way. */
  seq: number | null;
  senderAccountId: string;
  senderName: string;
  /** Plain text, shown as text (never as HTML). */
  text: string;
  /** Files sent with the message: what to fetch, and the keys to decrypt and check them (from inside the MLS message). */
  attachments?: AttachmentDescriptor[];
  at: string;
  own: boolean;
  status: 'sending' | 'sent' | 'failed' | 'received' | 'undecryptable';
  /** Set when its author edited it (an MLS-encrypted edit message): when. */
  editedAt?: string;
  /** Its author deleted it on every device: text and attachments are gone. */
  deleted?: boolean;
  /** An own message the server has not confirmed: the exact MLS message, to send again as is. */
  outbox?: { epoch: number; body: string };
}

export interface MemberReceiptView {
  accountId: string;
  displayName: string;
  deliveredSeq: number;
  readSeq: number;
}

export interface ConversationSummary {
  id: string;
  kind: 'direct' | 'group' | 'case' | 'patient';
  title: string;
  members: { accountId: string; displayName: string; role: 'admin' | 'member' }[];
  /** False until this device has joined the MLS group (its Welcome has not arrived yet). */
  joined: boolean;
  /** A commit removed this device from the group: it can read the history but no longer send. */
  removed: boolean;
  unread: number;
  /** The group's title set by an admin, if any (`title` falls back to the members' names). */
  customTitle: string | null;
  /** Whether this account may add and remove members and rename the conversation. */
  admin: boolean;
  /** Names of the people typing in it right now. */
  typing: string[];
  /** How far each other member has received and read (from the server's receipts). */
  receipts: MemberReceiptView[];
  lastMessage: ThreadMessage | null;
  messages: ThreadMessage[];
}

export interface MessengerSnapshot {
  /** `elsewhere`: another tab of this browser runs the messenger of this account. */
  phase: 'starting' | 'ready' | 'failed' | 'elsewhere';
  error: string | null;
  deviceId: string | null;
  connected: boolean;
  conversations: ConversationSummary[];
  /** Active devices on this person's account that this browser has never seen: the user must say whether they are theirs. */
  unknownOwnDevices: { id: string; name: string; createdAt: string }[];
}
