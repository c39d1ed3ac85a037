import { z } from 'zod';
import { Id, Timestamp } from './common.js';
import { Role, VerificationLevel } from './account.js';
import { MessageAttachmentIds } from './attachments.js';

/** Standard base64 (RFC 4648 §4) of binary MLS data. */
export const Base64 = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'base64');

/** Limits of the Delivery Service (documented in the README). */
export const MAX_MLS_MESSAGE_BYTES = 512 * 1024;
export const MAX_KEY_PACKAGE_BYTES = 16 * 1024;
export const MAX_KEY_PACKAGES_PER_UPLOAD = 100;
export const MAX_UNCLAIMED_KEY_PACKAGES = 200;
export const MAX_CONVERSATION_DEVICES = 500;
export const MAX_DEVICES_PER_ACCOUNT = 10;

/** MLS ciphersuite ids we offer (RFC 9420 §17.1; 83 = X-Wing + Ed25519 hybrid). */
export const CipherSuiteId = z.union([z.literal(1), z.literal(83)]);
export type CipherSuiteId = z.infer<typeof CipherSuiteId>;

export const RegisterDeviceBody = z.strictObject({
  /** Chosen by the device, and bound into its MLS credential `consilium:v1:<accountId>/<deviceId>`. */
  deviceId: Id,
  name: z.string().trim().min(1).max(60),
  ciphersuite: CipherSuiteId,
  /** The device's MLS signature public key (Ed25519, 32 bytes). */
  signaturePublicKey: Base64(64),
});
export type RegisterDeviceBody = z.infer<typeof RegisterDeviceBody>;

export const Device = z.strictObject({
  id: Id,
  accountId: Id,
  name: z.string(),
  ciphersuite: CipherSuiteId,
  signaturePublicKey: z.string(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  /** Whether this is the device bound to the calling session. */
  current: z.boolean(),
  unclaimedKeyPackages: z.number().int(),
});
export type Device = z.infer<typeof Device>;
export const DeviceList = z.strictObject({ devices: z.array(Device) });
export type DeviceList = z.infer<typeof DeviceList>;

/** A proof that the caller holds a registered device's signature key, to bind it to this session. */
export const DeviceChallenge = z.strictObject({ challenge: z.string() });
export type DeviceChallenge = z.infer<typeof DeviceChallenge>;
export const AttachDeviceBody = z.strictObject({
  deviceId: Id,
  /** Ed25519 signature over UTF-8 `consilium-device-attach:v1:<sessionId>:<challenge>`. */
  signature: Base64(64),
});
export type AttachDeviceBody = z.infer<typeof AttachDeviceBody>;

export const UploadKeyPackagesBody = z.strictObject({
  keyPackages: z.array(Base64(MAX_KEY_PACKAGE_BYTES)).max(MAX_KEY_PACKAGES_PER_UPLOAD),
  lastResort: Base64(MAX_KEY_PACKAGE_BYTES).optional(),
});
export type UploadKeyPackagesBody = z.infer<typeof UploadKeyPackagesBody>;
export const KeyPackageCount = z.strictObject({ unclaimed: z.number().int(), lastResort: z.boolean() });
export type KeyPackageCount = z.infer<typeof KeyPackageCount>;

export const ClaimKeyPackagesBody = z.strictObject({
  accountIds: z.array(Id).min(1).max(100),
  /** Only these devices of those accounts (a client adding one new device leaves the others' packages unspent). */
  deviceIds: z.array(Id).min(1).max(MAX_CONVERSATION_DEVICES).optional(),
});
export type ClaimKeyPackagesBody = z.infer<typeof ClaimKeyPackagesBody>;
export const ClaimedKeyPackages = z.strictObject({
  keyPackages: z.array(z.strictObject({ accountId: Id, deviceId: Id, keyPackage: z.string(), lastResort: z.boolean() })),
  /** Active devices that had no key package left (they join once they upload more). */
  missing: z.array(z.strictObject({ accountId: Id, deviceId: Id })),
});
export type ClaimedKeyPackages = z.infer<typeof ClaimedKeyPackages>;

export const DirectoryQuery = z.strictObject({ q: z.string().trim().max(100).default('') });
export const DirectoryEntry = z.strictObject({
  accountId: Id,
  displayName: z.string(),
  role: Role,
  departmentId: Id.nullable(),
  verificationLevel: VerificationLevel,
  /** Set only for a colleague of an explicitly connected organisation (see connections.ts): whose member they are. */
  organisation: z.strictObject({ id: Id, name: z.string() }).optional(),
});
export type DirectoryEntry = z.infer<typeof DirectoryEntry>;
export const Directory = z.strictObject({ people: z.array(DirectoryEntry) });
export type Directory = z.infer<typeof Directory>;

/** `case`: a patient case (see cases.ts); created through the cases API, not this one. */
export const ConversationKind = z.enum(['direct', 'group', 'case', 'patient']);
export type ConversationKind = z.infer<typeof ConversationKind>;

export const CreateConversationBody = z.strictObject({
  /** Chosen by the creator; it is also the MLS group id (its 16 bytes). */
  id: Id,
  kind: z.enum(['direct', 'group']),
  memberAccountIds: z.array(Id).max(MAX_CONVERSATION_DEVICES),
});
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

export const ConversationMember = z.strictObject({
  accountId: Id,
  displayName: z.string(),
  role: z.enum(['admin', 'member']),
  devices: z.array(z.strictObject({ deviceId: Id, signaturePublicKey: z.string() })),
});
export type ConversationMember = z.infer<typeof ConversationMember>;

export const Conversation = z.strictObject({
  id: Id,
  kind: ConversationKind,
  createdBy: Id,
  createdAt: Timestamp,
  epoch: z.number().int(),
  lastSeq: z.number().int(),
  /** This device's acknowledged position. */
  ackedSeq: z.number().int(),
  /** Messages disappear this many seconds after they were sent (server and devices); null keeps them. */
  expirySeconds: z.number().int().nullable(),
  members: z.array(ConversationMember),
});
export type Conversation = z.infer<typeof Conversation>;
export const ConversationList = z.strictObject({ conversations: z.array(Conversation) });
export type ConversationList = z.infer<typeof ConversationList>;

/** Disappearing messages: 1 day to 1 year, or null to keep messages. */
export const MIN_MESSAGE_EXPIRY_SECONDS = 86_400;
export const MAX_MESSAGE_EXPIRY_SECONDS = 365 * 86_400;
export const SetExpiryBody = z.strictObject({ expirySeconds: z.number().int().min(MIN_MESSAGE_EXPIRY_SECONDS).max(MAX_MESSAGE_EXPIRY_SECONDS).nullable() });
export type SetExpiryBody = z.infer<typeof SetExpiryBody>;
export const MessageParams = z.strictObject({ id: Id, seq: z.coerce.number().int().positive() });

export const AddMembersBody = z.strictObject({ accountIds: z.array(Id).min(1).max(100) });
export type AddMembersBody = z.infer<typeof AddMembersBody>;
export const MemberParams = z.strictObject({ id: Id, accountId: Id });

/**
 * Receipts (issue 3): per current member, how far their devices have acknowledged ("delivered":
 * the highest cursor of any of their devices) and how far they have read (a per-account marker the
 * client posts while the thread is on screen). Sequence numbers only: the server knows delivery
 * and read state, never what was read.
 */
export const ReadBody = z.strictObject({ seq: z.number().int().nonnegative() });
export type ReadBody = z.infer<typeof ReadBody>;
export const MemberReceipt = z.strictObject({
  accountId: Id,
  deliveredSeq: z.number().int().nonnegative(),
  readSeq: z.number().int().nonnegative(),
  readAt: Timestamp.nullable(),
});
export type MemberReceipt = z.infer<typeof MemberReceipt>;
export const ReceiptList = z.strictObject({ conversationId: Id, receipts: z.array(MemberReceipt) });
export type ReceiptList = z.infer<typeof ReceiptList>;

export const MessageKind = z.enum(['commit', 'application']);
export type MessageKind = z.infer<typeof MessageKind>;

/**
 * One MLS message for a conversation. The server reads the clear MLS header (group id, epoch,
 * content type) and refuses a body that disagrees with `kind` and `epoch`. For a commit, the
 * sender also says which devices it adds and removes, so the server can route the Welcome and
 * fan-out; it cannot see that inside the encrypted commit.
 */
export const SubmitMessageBody = z.strictObject({
  clientMessageId: Id,
  kind: MessageKind,
  epoch: z.number().int().nonnegative(),
  body: Base64(MAX_MLS_MESSAGE_BYTES),
  welcome: Base64(MAX_MLS_MESSAGE_BYTES).optional(),
  addedDeviceIds: z.array(Id).max(MAX_CONVERSATION_DEVICES).default([]),
  removedDeviceIds: z.array(Id).max(MAX_CONVERSATION_DEVICES).default([]),
  /** Application messages only: the blobs the message carries, which sending confirms (see MessageAttachmentIds). */
  attachmentIds: MessageAttachmentIds.default([]),
});
export type SubmitMessageBody = z.input<typeof SubmitMessageBody>;
export const SubmittedMessage = z.strictObject({ seq: z.number().int(), epoch: z.number().int() });
export type SubmittedMessage = z.infer<typeof SubmittedMessage>;

export const StoredMessage = z.strictObject({
  conversationId: Id,
  seq: z.number().int(),
  kind: MessageKind,
  epoch: z.number().int(),
  senderDeviceId: Id,
  senderAccountId: Id,
  body: z.string(),
  sentAt: Timestamp,
});
export type StoredMessage = z.infer<typeof StoredMessage>;

export const MessagesQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const MessagePage = z.strictObject({ messages: z.array(StoredMessage), lastSeq: z.number().int() });
export type MessagePage = z.infer<typeof MessagePage>;

export const AckBody = z.strictObject({ seq: z.number().int().nonnegative() });
export type AckBody = z.infer<typeof AckBody>;

export const PendingWelcome = z.strictObject({
  id: Id,
  conversationId: Id,
  /** The commit that added this device: process messages after it. */
  seq: z.number().int(),
  epoch: z.number().int(),
  body: z.string(),
});
export type PendingWelcome = z.infer<typeof PendingWelcome>;
export const WelcomeList = z.strictObject({ welcomes: z.array(PendingWelcome) });
export type WelcomeList = z.infer<typeof WelcomeList>;

// WebSocket frames (one socket per device at /api/v1/ws, authenticated by the session cookie).
// Text frames carrying JSON; every client frame is validated and answered with an error frame
// when it does not fit.
export const MAX_CLIENT_FRAME_BYTES = 4 * 1024;
export const CLIENT_FRAMES_PER_SECOND = 20;
/** The server relays one typing notice per device and conversation in this window (a big group would otherwise multiply them). */
export const TYPING_RELAY_MS = 2000;

export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ack'), conversationId: Id, seq: z.number().int().nonnegative() }),
  z.strictObject({ type: z.literal('ping'), id: z.string().max(64).optional() }),
  /** "I am typing in this conversation" (clients send it at most every few seconds while typing). */
  z.strictObject({ type: z.literal('typing'), conversationId: Id }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export const ServerFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), deviceId: Id }),
  /** A new message; the body is included when the server has it at hand. */
  z.strictObject({ type: z.literal('message'), message: StoredMessage }),
  z.strictObject({ type: z.literal('new'), conversationId: Id, seq: z.number().int() }),
  z.strictObject({ type: z.literal('welcome'), conversationId: Id, seq: z.number().int() }),
  /** A patient case of this account changed (paged, accepted, escalated, closed): fetch it again. */
  z.strictObject({ type: z.literal('case'), caseId: Id }),
  /** A colleague in one of this device's conversations gained or lost a device: reconcile the groups. */
  z.strictObject({ type: z.literal('peers') }),
  /** Delivery or read state changed in a conversation: every current member's receipt (coalesced, at most a few a second). */
  z.strictObject({ type: z.literal('receipts'), conversationId: Id, receipts: z.array(MemberReceipt) }),
  /** The server dropped notifications for a slow socket: fetch every conversation from its cursor. */
  z.strictObject({ type: z.literal('resync') }),
  z.strictObject({ type: z.literal('pong'), id: z.string().optional() }),
  /** A member is typing in the conversation (shown for a few seconds; the server relays at most one per device every TYPING_RELAY_MS). */
  z.strictObject({ type: z.literal('typing'), conversationId: Id, accountId: Id }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** Key transparency: a device key's entries in its organisation's key log, with the exact leaf bytes. */
export const DeviceKeyEntries = z.strictObject({
  deviceId: Id,
  accountId: Id,
  logId: z.string(),
  /** Each entry's canonical leaf (UTF-8 JSON): clients hash it themselves (RFC 9162 leaf hash) and check inclusion. */
  entries: z.array(z.strictObject({ index: z.number().int(), leaf: z.string() })),
});
export type DeviceKeyEntries = z.infer<typeof DeviceKeyEntries>;
