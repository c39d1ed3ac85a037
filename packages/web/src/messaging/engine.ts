/**
 * The messenger of one signed-in account on this browser: its MLS device, its groups, and the
 * delivery of messages over HTTP and the WebSocket. Loaded lazily (with the MLS library) after
 * sign-in, so the sign-in page stays small.
 *
 * Discipline (packages/crypto/src/mls/README.md): every new group state is sealed and saved
 * before what it produced is sent or acknowledged; commits are confirmed on 200 and discarded on
 * STALE_EPOCH; own messages are never fed back; per conversation, work runs one at a time.
 */
import * as mls from '@consilium/crypto/mls';
import type { ClientFrame, Conversation, CreatedPatientInvite, Device, MemberReceipt, OpenCaseBody, PendingWelcome, ServerFrame, StoredMessage, SubmitMessageBody, SubmittedMessage } from '@consilium/protocol';
import { ApiError } from '../api/client';
import { listSessions as listServerSessions } from '../api/me';
import * as serverApi from '../api/messaging';
import { openCase } from '../api/cases';
import { createPatientInvite } from '../api/patients';
import {
  applyMessageControl,
  decodeMessageContent,
  decodeMessageControl,
  DELETE_CONTENT_TYPE,
  EDIT_CONTENT_TYPE,
  TITLE_CONTENT_TYPE,
  encodeMessageContent,
  encodeMessageControl,
  type AttachmentDescriptor,
  type MessageControl,
  type MessageEditControl,
} from '@consilium/protocol';
import { forgetOpenedAttachments } from '../attachments/vault';
import { KeyTransparency } from './key-transparency';
import { acknowledgeOwnDevices, unknownOwnDevices } from './own-devices';
import { localDelete, localDeletePrefix, localGet, localPut, openJson, sealJson, stateKey } from './local-store';
import type { ConversationSummary, MessengerSnapshot, ThreadMessage } from './types';

const ONE_TIME_KEY_PACKAGES = 20;
/** Upload more one-time key packages when the server holds fewer than this. */
const KEY_PACKAGE_LOW_WATER = 8;
const COMMIT_ATTEMPTS = 5;
const SUBMIT_ATTEMPTS = 4;
const RECONCILE_EVERY_MS = 60_000;
/** A typing notice is sent at most this often while the user types... */
const TYPING_SEND_MS = 3000;
/** ...and shown for this long after the last one arrived. */
const TYPING_SHOWN_MS = 5000;

const utf8 = (text: string) => new TextEncoder().encode(text);
const fromUtf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const toB64 = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};
const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const groupIdOf = (conversationId: string) => utf8(conversationId);

interface DeviceRecord {
  deviceId: string;
  sealed: Uint8Array;
}

/** What is stored per conversation, in one record so state, cursor and history change together. */
interface ConversationRecord {
  sealedState: Uint8Array;
  cursor: number;
  readSeq: number;
  sealedLog: Uint8Array;
  /** The group's title (from an MLS title message), sealed like the history. */
  sealedTitle?: Uint8Array;
  /** A commit of ours the Delivery Service had not answered when this was saved. */
  sealedPending?: Uint8Array;
}

/**
 * How far this device got in setting up a case it opened (sealed, per case): the header until it
 * is sent, and the client message ids of the header and attachment messages once encrypted.
 */
interface CaseSetup {
  header?: string;
  headerKey?: string;
  attachmentsKey?: string;
}

interface Group {
  state: mls.GroupState;
  /** Last sequence number processed (or skipped as our own). */
  cursor: number;
  /** Last sequence number the user has seen in the thread. */
  readSeq: number;
  messages: ThreadMessage[];
  /** Set by an admin's MLS title message; null shows the members' names. */
  title: string | null;
  /** The pending state of a commit being submitted (saved beside the current state). */
  pending?: mls.GroupState;
  /**
   * After a restart: the state a commit of ours led to, if the server kept that commit. The
   * catch-up decides: our own commit at the current epoch means it won.
   */
  unsettled?: mls.GroupState;
}

/** Thrown instead of making a request once the messenger stopped (the user signed out). */
class MessengerStopped extends Error {
  override readonly name = 'MessengerStopped';
}

type AnyFunction = (...args: never[]) => Promise<unknown>;

/** The same API functions, refusing to run once `stopped()` says so: no requests after sign-out. */
function guarded<T extends Record<string, AnyFunction>>(functions: T, stopped: () => boolean): T {
  const out: Record<string, AnyFunction> = {};
  for (const [name, fn] of Object.entries(functions)) {
    out[name] = (...args: never[]) => (stopped() ? Promise.reject(new MessengerStopped('signed out')) : fn(...args));
  }
  return out as T;
}

export class Messenger {
  private readonly api = guarded({ ...serverApi }, () => this.stopped);
  private readonly listSessions = guarded({ listServerSessions }, () => this.stopped).listServerSessions;
  private readonly caseApi = guarded({ openCase, createPatientInvite }, () => this.stopped);
  private readonly caseListeners = new Set<(caseId: string) => void>();
  private readonly keyLog = new KeyTransparency(this.api);
  private key!: CryptoKey;
  private secrets!: mls.DeviceSecrets;
  private readonly groups = new Map<string, Group>();
  private conversations: Conversation[] = [];
  private readonly queues = new Map<string, Promise<unknown>>();
  private socket: WebSocket | null = null;
  private stopped = false;
  private reconnectDelay = 1000;
  private reconcileTimer: ReturnType<typeof setInterval> | null = null;
  private openConversationId: string | null = null;
  /** Per conversation: every member's receipt, as the server last said (fetched on open, pushed on change). */
  private readonly receipts = new Map<string, MemberReceipt[]>();
  /** Per conversation: who is typing, until when (ms since epoch). */
  private readonly typing = new Map<string, Map<string, number>>();
  /** Per conversation: when this device last said it is typing. */
  private readonly typingSent = new Map<string, number>();
  /** Per conversation: the read marker last posted to the server (posted only forward). */
  private readonly postedRead = new Map<string, number>();
  private snapshot: MessengerSnapshot = { phase: 'starting', error: null, deviceId: null, connected: false, conversations: [], unknownOwnDevices: [] };
  private readonly listeners = new Set<() => void>();

  constructor(private readonly accountId: string) {}

  // ---- the store React reads -------------------------------------------------------------

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.snapshot;

  private publish(patch: Partial<MessengerSnapshot> = {}): void {
    const conversations: ConversationSummary[] = this.conversations.map((c) => {
      const group = this.groups.get(c.id);
      const messages = group?.messages ?? [];
      const others = c.members.filter((m) => m.accountId !== this.accountId);
      const names = others.length === 0 ? 'Only you' : others.map((m) => m.displayName).join(', ');
      const receipts = this.receipts.get(c.id) ?? [];
      return {
        id: c.id,
        kind: c.kind,
        title: group?.title ?? names,
        typing: [...(this.typing.get(c.id) ?? new Map<string, number>())]
          .filter(([, until]) => until > Date.now())
          .map(([accountId]) => c.members.find((m) => m.accountId === accountId)?.displayName ?? 'Someone'),
        customTitle: group?.title ?? null,
        admin: c.members.some((m) => m.accountId === this.accountId && m.role === 'admin'),
        receipts: others.map((m) => {
          const r = receipts.find((x) => x.accountId === m.accountId);
          return { accountId: m.accountId, displayName: m.displayName, deliveredSeq: r?.deliveredSeq ?? 0, readSeq: r?.readSeq ?? 0 };
        }),
        members: c.members.map((m) => ({ accountId: m.accountId, displayName: m.displayName, role: m.role })),
        joined: group !== undefined,
        removed: group ? !group.state.active : false,
        unread: group ? messages.filter((m) => !m.own && m.seq !== null && m.seq > group.readSeq).length : 0,
        lastMessage: messages.at(-1) ?? null,
        messages,
      };
    });
    conversations.sort((a, b) => (b.lastMessage?.at ?? '').localeCompare(a.lastMessage?.at ?? ''));
    this.snapshot = { ...this.snapshot, ...patch, deviceId: this.secrets?.identity.deviceId ?? null, conversations };
    for (const listener of this.listeners) listener();
  }

  // ---- start and stop ---------------------------------------------------------------------

  private releaseLock: (() => void) | null = null;

  /**
   * Holds this account's messaging lock for as long as the messenger runs: two tabs working on
   * the same device's group states would reuse each other's keys. A second tab waits its turn.
   */
  private takeLock(): Promise<void> {
    if (!('locks' in navigator)) return Promise.resolve();
    return new Promise((acquired) => {
      const waiting = setTimeout(() => this.publish({ phase: 'elsewhere' }), 500);
      void navigator.locks.request(`consilium-messenger:${this.accountId}`, async () => {
        clearTimeout(waiting);
        if (this.stopped) return;
        acquired();
        await new Promise<void>((release) => (this.releaseLock = release));
      });
    });
  }

  async start(): Promise<void> {
    try {
      await this.takeLock();
      if (this.stopped) return;
      this.publish({ phase: 'starting' });
      this.key = await stateKey(mls.generateStateKey);
      await this.setUpDevice();
      await this.checkOwnDevices();
      await this.refreshConversations();
      await this.loadGroups();
      this.publish({ phase: 'ready' });
      document.addEventListener('visibilitychange', this.onVisibility);
      this.connect();
      await this.joinWelcomes();
      await Promise.all(this.conversations.map((c) => this.sync(c.id)));
      await this.topUpKeyPackages();
      await this.reconcileAll();
      await this.expireLocal();
      // Nobody is told when a colleague registers a new device: look again every minute.
      this.reconcileTimer = setInterval(
        () =>
          void this.checkOwnDevices()
            .then(() => this.refreshConversations())
            .then(() => this.reconcileAll())
            .then(() => this.expireLocal())
            .catch(() => undefined),
        RECONCILE_EVERY_MS,
      );
    } catch (error) {
      if (this.stopped) return;
      console.warn('messaging could not start', error);
      this.publish({ phase: 'failed', error: describe(error) });
    }
  }

  stop(): void {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    forgetOpenedAttachments();
    this.releaseLock?.();
    const socket = this.socket;
    this.socket = null;
    // Closing a socket that is still connecting makes the browser log an error: close it once open.
    if (socket?.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close();
    else socket?.close();
  }

  // ---- device -----------------------------------------------------------------------------

  private deviceKey = () => `device:${this.accountId}`;

  private async saveSecrets(secrets: mls.DeviceSecrets): Promise<void> {
    const record: DeviceRecord = { deviceId: secrets.identity.deviceId, sealed: await mls.sealDeviceSecrets(secrets, this.key) };
    await localPut({ [this.deviceKey()]: record });
    this.secrets = secrets;
  }

  /** Loads this browser's device for the account, binds it to the session, or makes a new one. */
  private async setUpDevice(): Promise<void> {
    const record = await localGet<DeviceRecord>(this.deviceKey());
    let secrets: mls.DeviceSecrets | undefined;
    if (record) {
      secrets = await mls
        .openDeviceSecrets(record.sealed, this.key, { userId: this.accountId, deviceId: record.deviceId })
        .catch((error: unknown) => {
          console.warn('stored device secrets do not open; making a new device', error);
          return undefined;
        });
    }
    const { devices } = await this.api.listDevices();
    const current = devices.find((d) => d.current);
    if (secrets) {
      const known = devices.find((d) => d.id === secrets!.identity.deviceId);
      if (known && !known.revokedAt) {
        this.secrets = secrets;
        acknowledgeOwnDevices(this.accountId, [known.id]);
        if (!known.current) await this.attach(known);
        return;
      }
      // Revoked (or gone): its groups are lost to it. Erase what it kept (epoch secrets, history)
      // and start over as a new device.
      await localDeletePrefix(`conversation:${this.accountId}:${secrets.identity.deviceId}:`);
      secrets = undefined;
    }
    if (current) {
      // The session already speaks for a device whose secrets this browser does not hold.
      throw new Error('this session is bound to a device whose keys are not in this browser; sign in again');
    }
    const identity = await mls.createDeviceIdentity({ userId: this.accountId, deviceId: crypto.randomUUID() });
    acknowledgeOwnDevices(this.accountId, [identity.deviceId]);
    const batch = await mls.generateKeyPackages(identity, { count: ONE_TIME_KEY_PACKAGES, lastResort: true });
    // Keep the private halves before anything public exists.
    await this.saveSecrets({ identity, keyPackages: batch.secrets });
    await this.api.registerDevice({ deviceId: identity.deviceId, name: deviceName(), ciphersuite: 1, signaturePublicKey: toB64(identity.signaturePublicKey) });
    await this.uploadBatch(batch);
  }

  /** Binds the stored device to this new session by signing the server's challenge. */
  private async attach(device: Device): Promise<void> {
    const { challenge } = await this.api.deviceChallenge();
    const session = (await this.listSessions()).sessions.find((s) => s.current);
    if (!session) throw new Error('the server does not show the current session');
    const key = await crypto.subtle.importKey('pkcs8', ed25519Pkcs8(this.secrets.identity.signaturePrivateKey), 'Ed25519', false, ['sign']);
    const signature = await crypto.subtle.sign('Ed25519', key, utf8(`consilium-device-attach:v1:${session.id}:${challenge}`));
    await this.api.attachDevice(device.id, toB64(new Uint8Array(signature)));
  }

  private async uploadBatch(batch: mls.KeyPackageBatch): Promise<void> {
    const lastResort = batch.published.find((p) => p.lastResort);
    await this.api.uploadKeyPackages({
      keyPackages: batch.published.filter((p) => !p.lastResort).map((p) => toB64(p.keyPackage)),
      ...(lastResort && { lastResort: toB64(lastResort.keyPackage) }),
    });
  }

  private async topUpKeyPackages(): Promise<void> {
    const { devices } = await this.api.listDevices();
    const current = devices.find((d) => d.current);
    if (!current || current.unclaimedKeyPackages >= KEY_PACKAGE_LOW_WATER) return;
    const batch = await mls.generateKeyPackages(this.secrets.identity, { count: ONE_TIME_KEY_PACKAGES, lastResort: false });
    await this.saveSecrets({ ...this.secrets, keyPackages: [...this.secrets.keyPackages, ...batch.secrets] });
    await this.uploadBatch(batch);
  }

  // ---- credentials ------------------------------------------------------------------------

  /**
   * A leaf is accepted when its device key is the one the server lists for that member of one
   * of our conversations, and the organisation's key transparency log proves that key was
   * registered for that person's device and not revoked since.
   */
  private readonly validateCredential: mls.CredentialValidator = async (credential) => {
    const presented = toB64(credential.signaturePublicKey);
    if (credential.userId === this.accountId && credential.deviceId === this.secrets.identity.deviceId) {
      return presented === toB64(this.secrets.identity.signaturePublicKey);
    }
    const expected = () => this.deviceKeyOf(credential.userId, credential.deviceId);
    let key = expected();
    if (key === undefined) {
      await this.refreshConversations();
      key = expected();
    }
    if (key === undefined || key !== presented) return false;
    return this.keyLog.check(credential.userId, credential.deviceId, presented);
  };

  private deviceKeyOf(accountId: string, deviceId: string): string | undefined {
    if (accountId === this.accountId && deviceId === this.secrets.identity.deviceId) return toB64(this.secrets.identity.signaturePublicKey);
    for (const c of this.conversations) {
      const device = c.members.find((m) => m.accountId === accountId)?.devices.find((d) => d.deviceId === deviceId);
      if (device) return device.signaturePublicKey;
    }
    return undefined;
  }

  // ---- conversations and groups -----------------------------------------------------------

  private async refreshConversations(): Promise<void> {
    this.conversations = (await this.api.listConversations()).conversations;
    this.publish();
  }

  /**
   * Disappearing messages on this device: deletes the decrypted copies older than their
   * conversation's expiry (the server deletes its ciphertext on its own sweep). Runs at start, on
   * resync and every minute, never from inside a conversation's queue (it takes each queue itself).
   */
  private async expireLocal(): Promise<void> {
    const now = Date.now();
    for (const c of this.conversations) {
      const group = this.groups.get(c.id);
      if (!group || c.expirySeconds === null) continue;
      const cutoff = now - c.expirySeconds * 1000;
      const expired = (m: ThreadMessage) => m.status !== 'sending' && m.status !== 'failed' && Date.parse(m.at) < cutoff;
      if (!group.messages.some(expired)) continue;
      await this.serial(c.id, async () => {
        group.messages = group.messages.filter((m) => !expired(m));
        await this.save(c.id, group);
      });
      this.publish();
    }
  }

  private recordKey = (conversationId: string) => `conversation:${this.accountId}:${this.secrets.identity.deviceId}:${conversationId}`;

  private async loadGroups(): Promise<void> {
    for (const c of this.conversations) {
      const record = await localGet<ConversationRecord>(this.recordKey(c.id));
      if (!record) continue;
      try {
        const state = await mls.openGroupState(record.sealedState, this.key, { groupId: groupIdOf(c.id), validateCredential: this.validateCredential });
        const messages = await openJson<ThreadMessage[]>(record.sealedLog, this.key, this.recordKey(c.id));
        const title = record.sealedTitle ? await openJson<string | null>(record.sealedTitle, this.key, this.recordKey(c.id)) : null;
        const group: Group = { state, cursor: record.cursor, readSeq: record.readSeq, messages, title };
        if (record.sealedPending) {
          group.unsettled = await mls.openGroupState(record.sealedPending, this.key, { groupId: groupIdOf(c.id), validateCredential: this.validateCredential });
        }
        this.groups.set(c.id, group);
      } catch (error) {
        console.warn(`conversation ${c.id} cannot be opened on this device`, error);
      }
    }
  }

  /** Saves a conversation's state, cursor and history in one write (with `alongside` entries, in the same transaction). */
  private async save(conversationId: string, group: Group, alongside: Record<string, unknown> = {}): Promise<void> {
    const record: ConversationRecord = {
      sealedState: await mls.sealGroupState(group.state, this.key),
      cursor: group.cursor,
      readSeq: group.readSeq,
      sealedLog: await sealJson(group.messages, this.key, this.recordKey(conversationId)),
    };
    if (group.title !== null) record.sealedTitle = await sealJson(group.title, this.key, this.recordKey(conversationId));
    const pending = group.pending ?? group.unsettled;
    if (pending) record.sealedPending = await mls.sealGroupState(pending, this.key);
    await localPut({ ...alongside, [this.recordKey(conversationId)]: record });
  }

  /** Runs `work` after every earlier piece of work on the same conversation. */
  private serial<T>(conversationId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(conversationId, next);
    return next;
  }

  /** Starts a conversation with the given people and adds all their devices (and our other ones). */
  async createConversation(memberAccountIds: string[]): Promise<string> {
    const id = crypto.randomUUID();
    const kind = memberAccountIds.length === 1 ? 'direct' : 'group';
    await this.api.createConversation(id, kind, memberAccountIds);
    await this.startGroup(id, memberAccountIds);
    return id;
  }

  /**
   * Opens a patient case: the server records it (and brings in the specialty's on-call chain), this
   * device makes the MLS group with everyone's devices, then sends the encrypted case header
   * (patient reference and SBAR consult) as the first message. Returns the case id.
   */
  async startCase(input: Omit<OpenCaseBody, 'id'>, header: string): Promise<string> {
    const id = await this.openCase(input, header);
    await this.resumeCase(id);
    return id;
  }

  /**
   * Has the server record a case (paging the on-call chain) and keeps its header sealed on this
   * device, so the setup can be resumed (resumeCase) even after a reload. Returns the case id; the
   * group is not made yet.
   */
  async openCase(input: Omit<OpenCaseBody, 'id'>, header: string): Promise<string> {
    const id = crypto.randomUUID();
    await localPut(await this.caseSetupEntry(id, { header }));
    try {
      await this.caseApi.openCase({ ...input, id });
    } catch (error) {
      // Refused: there is no case to resume. (Otherwise the server may have recorded it.)
      if (isRefusal(error)) await localDelete(this.caseSetupKey(id));
      throw error;
    }
    return id;
  }

  /**
   * Finishes setting up a case this device opened, and can be called again and again until it
   * succeeds: makes the MLS group if this device has none (or goes on with the one it made), adds
   * the members' devices not in it yet, sends the header unless it was sent, then the attachments
   * (`upload` is called only while they are not sent). What was sent is remembered in the sealed
   * case-setup record, written in the same transaction as the group state that encrypted it, so
   * a retry re-sends the very same message (the server keeps one copy per client message id)
   * instead of a second header. `header` is needed only when this device holds no setup record.
   */
  async resumeCase(conversationId: string, header?: string, upload?: () => Promise<AttachmentDescriptor[]>): Promise<void> {
    const setup: CaseSetup = (await this.caseSetup(conversationId)) ?? {};
    if (setup.headerKey === undefined && setup.header === undefined) {
      if (header === undefined) throw new Error('the consult of this case is not kept on this device; open a new consult');
      setup.header = header;
    }
    await this.refreshConversations();
    const conversation = this.conversations.find((c) => c.id === conversationId);
    if (conversation?.kind !== 'case') throw new Error('this case is not among your conversations');
    // Another device of ours may have made the group and added this one: use it then.
    if (!this.groups.has(conversationId)) await this.joinWelcomes();
    if (!this.groups.has(conversationId)) {
      await this.serial(conversationId, async () => {
        if (this.groups.has(conversationId)) return;
        const state = await mls.createGroup({ identity: this.secrets.identity, groupId: groupIdOf(conversationId), validateCredential: this.validateCredential });
        const group: Group = { state, cursor: 0, readSeq: 0, messages: [], title: null };
        await this.save(conversationId, group);
        this.groups.set(conversationId, group);
      });
      this.publish();
    }
    const group = this.groups.get(conversationId)!;
    // A commit of ours whose answer was lost: ask the server whether it kept it before going on.
    await this.serial(conversationId, async () => {
      if (group.pending) {
        group.unsettled = group.pending;
        group.pending = undefined;
      }
      await this.catchUp(conversationId, group);
    });
    if (!group.state.active) throw new Error('this device was removed from the case');
    await this.reconcile(conversation);

    await this.serial(conversationId, async () => {
      if (setup.headerKey === undefined) {
        const item = await this.encryptOwn(group, setup.header!, []);
        setup.headerKey = item.key;
        await this.save(conversationId, group, await this.caseSetupEntry(conversationId, setup));
        this.publish();
      }
      await this.deliverOwn(conversationId, group, setup, 'headerKey');
      if (setup.header !== undefined) {
        // Sent: the header lives on only in the sealed history.
        delete setup.header;
        await localPut(await this.caseSetupEntry(conversationId, setup));
      }
    });
    if (setup.attachmentsKey === undefined && upload) {
      const attachments = await upload();
      if (attachments.length === 0) return;
      await this.serial(conversationId, async () => {
        const item = await this.encryptOwn(group, '', attachments);
        setup.attachmentsKey = item.key;
        await this.save(conversationId, group, await this.caseSetupEntry(conversationId, setup));
        this.publish();
      });
    }
    await this.serial(conversationId, () => this.deliverOwn(conversationId, group, setup, 'attachmentsKey'));
  }

  /** True while a case this device opened has a header it has not sent yet (a Retry can send it). */
  async caseSetupPending(conversationId: string): Promise<boolean> {
    const setup = await this.caseSetup(conversationId);
    if (setup?.header === undefined) return false;
    // Sent meanwhile by the thread's own Retry (same message): nothing left for the consult.
    const sent = this.groups.get(conversationId)?.messages.find((m) => m.key === setup.headerKey)?.status === 'sent';
    return !sent;
  }

  private caseSetupKey = (conversationId: string) => `case-setup:${this.accountId}:${this.secrets.identity.deviceId}:${conversationId}`;

  private async caseSetup(conversationId: string): Promise<CaseSetup | undefined> {
    const sealed = await localGet<Uint8Array>(this.caseSetupKey(conversationId));
    return sealed ? openJson<CaseSetup>(sealed, this.key, this.caseSetupKey(conversationId)) : undefined;
  }

  private async caseSetupEntry(conversationId: string, setup: CaseSetup): Promise<Record<string, Uint8Array>> {
    return { [this.caseSetupKey(conversationId)]: await sealJson(setup, this.key, this.caseSetupKey(conversationId)) };
  }

  /**
   * Delivers the own message `setup[field]` names, unless it is sent. When the server refused its
   * bytes because the group moved on (STALE_EPOCH: it never stored them), the same content is
   * encrypted again under a fresh id, still one message, and the setup record follows it.
   */
  private async deliverOwn(conversationId: string, group: Group, setup: CaseSetup, field: 'headerKey' | 'attachmentsKey'): Promise<void> {
    const key = setup[field];
    if (key === undefined) return;
    const item = group.messages.find((m) => m.key === key);
    // Gone from the history: deleted by its author or expired, so it had been sent.
    if (!item || item.status === 'sent' || !item.outbox) return;
    try {
      await this.deliver(conversationId, group, item);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'STALE_EPOCH')) throw error;
      const again = await this.encryptOwn(group, item.text, item.attachments ?? [], key);
      setup[field] = again.key;
      await this.save(conversationId, group, await this.caseSetupEntry(conversationId, setup));
      this.publish();
      await this.deliver(conversationId, group, again);
    }
  }

  /**
   * Opens a patient conversation with an invitation: the group starts with this person's devices;
   * the patient's device is added (by reconciliation) once they have joined and signed in.
   */
  async invitePatient(label: string): Promise<CreatedPatientInvite> {
    const created = await this.caseApi.createPatientInvite(label);
    await this.startGroup(created.invite.conversationId, []);
    return created;
  }

  /** Called with a case id whenever the server says a case of this account changed (paged, accepted, closed). */
  onCaseChanged(listener: (caseId: string) => void): () => void {
    this.caseListeners.add(listener);
    return () => this.caseListeners.delete(listener);
  }

  /** Makes the MLS group of a conversation the server has recorded and adds every member's devices. */
  private async startGroup(id: string, memberAccountIds: string[]): Promise<void> {
    await this.refreshConversations();
    await this.serial(id, async () => {
      const state = await mls.createGroup({ identity: this.secrets.identity, groupId: groupIdOf(id), validateCredential: this.validateCredential });
      const group: Group = { state, cursor: 0, readSeq: 0, messages: [], title: null };
      await this.save(id, group);
      this.groups.set(id, group);
      this.publish();
      const claimed = await this.api.claimKeyPackages([this.accountId, ...memberAccountIds]);
      if (claimed.keyPackages.length > 0) {
        const keyPackages = claimed.keyPackages.map((k) => fromB64(k.keyPackage));
        await this.commit(id, group, (s) => mls.addMembers(s, keyPackages), claimed.keyPackages.map((k) => k.deviceId));
      }
    });
    this.publish();
  }

  private async commit(
    conversationId: string,
    group: Group,
    make: (state: mls.GroupState) => Promise<mls.CommitResult>,
    addedDeviceIds: string[],
    removedDeviceIds: string[] = [],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const epoch = Number(group.state.epoch);
      const result = await make(group.state);
      group.pending = result.newState;
      await this.save(conversationId, group);
      try {
        await this.submit(conversationId, {
          clientMessageId: crypto.randomUUID(),
          kind: 'commit',
          epoch,
          body: toB64(result.commit),
          ...(result.welcome && { welcome: toB64(result.welcome) }),
          addedDeviceIds,
          removedDeviceIds,
        });
      } catch (error) {
        if (!isRefusal(error)) {
          // Unknown whether the server kept it: the pending state stays saved, and the next
          // start asks the server (see `unsettled`). Until then this conversation waits.
          throw error;
        }
        group.pending = undefined;
        group.state = mls.discardCommit(result.newState);
        await this.save(conversationId, group);
        if (!(error instanceof ApiError && error.code === 'STALE_EPOCH') || attempt >= COMMIT_ATTEMPTS) throw error;
        await this.catchUp(conversationId, group);
        continue;
      }
      group.pending = undefined;
      group.state = mls.confirmCommit(result.newState);
      await this.save(conversationId, group);
      return;
    }
  }

  /**
   * Brings a group in line with the server's membership record: adds the devices of members that
   * are not in it yet (a colleague's new phone, a patient who just joined, our own new device) and
   * removes leaves whose device is no longer listed (revoked, or its person left), which restores
   * post-compromise security after a revocation. A device adds its own person's devices; admins of
   * the conversation do the rest. Two devices that race settle through STALE_EPOCH: the loser
   * catches up, finds nothing left to do, and stops.
   */
  private async reconcile(conversation: Conversation): Promise<void> {
    const group = this.groups.get(conversation.id);
    if (!group || !group.state.active || group.pending || group.unsettled) return;
    const mine = conversation.members.find((m) => m.accountId === this.accountId);
    if (!mine) return;
    const admin = mine.role === 'admin';
    const listed = new Map(conversation.members.flatMap((m) => m.devices.map((d) => [d.deviceId, m.accountId] as const)));
    const diff = (state: mls.GroupState) => {
      const present = mls.groupMembers(state);
      const presentIds = new Set(present.map((m) => m.deviceId));
      const missing = [...listed].filter(([deviceId, accountId]) => !presentIds.has(deviceId) && (admin || accountId === this.accountId)).map(([deviceId, accountId]) => ({ deviceId, accountId }));
      const stale = admin ? present.filter((m) => !listed.has(m.deviceId) && m.deviceId !== this.secrets.identity.deviceId) : [];
      return { missing, stale };
    };
    const first = diff(group.state);
    if (first.missing.length === 0 && first.stale.length === 0) return;
    await this.serial(conversation.id, async () => {
      if (first.stale.length > 0) {
        await this.commit(conversation.id, group, async (state) => {
          const now = diff(state).stale;
          if (now.length === 0) throw new NothingToCommit();
          return mls.removeMembers(state, now.map((m) => ({ userId: m.userId, deviceId: m.deviceId })));
        }, [], first.stale.map((m) => m.deviceId)).catch(ignoreNothingToCommit);
      }
      const missing = diff(group.state).missing;
      if (missing.length === 0) return;
      const claimed = await this.api.claimKeyPackages([...new Set(missing.map((m) => m.accountId))], missing.map((m) => m.deviceId));
      if (claimed.keyPackages.length === 0) return;
      await this.commit(conversation.id, group, async (state) => {
        const still = new Set(diff(state).missing.map((m) => m.deviceId));
        const packages = claimed.keyPackages.filter((k) => still.has(k.deviceId));
        if (packages.length === 0) throw new NothingToCommit();
        return mls.addMembers(state, packages.map((k) => fromB64(k.keyPackage)));
      }, claimed.keyPackages.map((k) => k.deviceId)).catch(ignoreNothingToCommit);
    });
    this.publish();
  }

  /** Raises devices on this person's account that this browser has not seen before. */
  private async checkOwnDevices(): Promise<void> {
    const { devices } = await this.api.listDevices();
    const unknown = unknownOwnDevices(this.accountId, devices).map((d) => ({ id: d.id, name: d.name, createdAt: d.createdAt }));
    this.publish({ unknownOwnDevices: unknown });
  }

  /** The user confirmed these devices are theirs. (Ones that are not are revoked in the profile.) */
  acknowledgeOwnDevices(deviceIds: string[]): void {
    acknowledgeOwnDevices(this.accountId, deviceIds);
    this.publish({ unknownOwnDevices: this.snapshot.unknownOwnDevices.filter((d) => !deviceIds.includes(d.id)) });
  }

  /** Reconciles every group with the server's record; a failure in one conversation does not stop the rest. */
  private async reconcileAll(): Promise<void> {
    for (const c of this.conversations) {
      await this.reconcile(c).catch((error: unknown) => console.warn(`could not bring ${c.id} up to date`, error));
    }
  }

  // ---- sending ----------------------------------------------------------------------------

  /**
   * Submits one message, sending the very same body again when the answer was lost (network, 5xx):
   * the server keeps one copy per clientMessageId and answers a repeat with the same seq.
   */
  private async submit(conversationId: string, body: SubmitMessageBody): Promise<SubmittedMessage> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.api.submitMessage(conversationId, body);
      } catch (error) {
        if (isRefusal(error) || error instanceof MessengerStopped || attempt >= SUBMIT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
  }

  /** Sends text, with the descriptors (keys included) of attachments already uploaded, inside the MLS message. */
  async send(conversationId: string, text: string, attachments: AttachmentDescriptor[] = []): Promise<void> {
    const group = this.groups.get(conversationId);
    if (!group) throw new Error('this device is not in the conversation yet');
    await this.serial(conversationId, async () => {
      const item = await this.encryptOwn(group, text, attachments);
      // Save, then send: a crash after sending must not reuse this sender generation.
      await this.save(conversationId, group);
      this.publish();
      await this.deliver(conversationId, group, item);
    });
  }

  /**
   * Encrypts an own message and puts it in the history as sending (in place of `replaces` when
   * given); the caller saves before it is sent. Runs inside the conversation's queue.
   */
  private async encryptOwn(group: Group, text: string, attachments: AttachmentDescriptor[], replaces?: string): Promise<ThreadMessage> {
    const epoch = Number(group.state.epoch);
    const { newState, message } = await mls.encryptMessage(group.state, utf8(encodeMessageContent({ text, attachments })));
    group.state = newState;
    const item: ThreadMessage = {
      key: crypto.randomUUID(),
      seq: null,
      senderAccountId: this.accountId,
      senderName: 'You',
      text,
      ...(attachments.length > 0 && { attachments }),
      at: new Date().toISOString(),
      own: true,
      status: 'sending',
      outbox: { epoch, body: toB64(message) },
    };
    group.messages = replaces === undefined ? [...group.messages, item] : group.messages.map((m) => (m.key === replaces ? item : m));
    return item;
  }

  /** Sends an own message that did not get through, with the same id and bytes as before. */
  retry(conversationId: string, key: string): Promise<void> {
    const group = this.groups.get(conversationId);
    if (!group) return Promise.resolve();
    return this.serial(conversationId, async () => {
      const item = group.messages.find((m) => m.key === key);
      if (item?.status !== 'failed' || !item.outbox) return;
      this.markOwn(group, key, { status: 'sending' });
      this.publish();
      await this.deliver(conversationId, group, item);
    });
  }

  private markOwn(group: Group, key: string, patch: Partial<ThreadMessage>): void {
    group.messages = group.messages.map((m) => (m.key === key ? { ...m, ...patch } : m));
  }

  private async deliver(conversationId: string, group: Group, item: ThreadMessage): Promise<void> {
    const outbox = item.outbox!;
    try {
      // Naming the blobs the message carries confirms their uploads with it (else the server deletes them after a day).
      const attachmentIds = [...new Set((item.attachments ?? []).map((a) => a.blobId))];
      const { seq } = await this.submit(conversationId, { clientMessageId: item.key, kind: 'application', epoch: outbox.epoch, body: outbox.body, ...(attachmentIds.length > 0 && { attachmentIds }) });
      const { outbox: _sent, ...rest } = { ...item, seq, status: 'sent' as const };
      group.messages = group.messages.map((m) => (m.key === item.key ? rest : m));
    } catch (error) {
      this.markOwn(group, item.key, { status: 'failed' });
      throw error;
    } finally {
      await this.save(conversationId, group);
      this.publish();
    }
  }

  // ---- receiving --------------------------------------------------------------------------

  /** Fetches and processes everything after the cursor, saves, then acknowledges. */
  sync(conversationId: string): Promise<void> {
    return this.serial(conversationId, async () => {
      const group = this.groups.get(conversationId);
      if (group) await this.catchUp(conversationId, group);
    });
  }

  private async catchUp(conversationId: string, group: Group): Promise<void> {
    const start = group.cursor;
    for (;;) {
      const page = await this.api.fetchMessages(conversationId, group.cursor, 100);
      for (const m of page.messages) await this.process(group, m);
      if (page.messages.length < 100) break;
    }
    // Nothing at the commit's epoch came back: the commit never reached the server.
    const dropped = group.unsettled !== undefined;
    group.unsettled = undefined;
    if (group.cursor > start || dropped) await this.settle(conversationId, group);
  }

  private async settle(conversationId: string, group: Group): Promise<void> {
    await this.save(conversationId, group);
    this.publish();
    await this.api.acknowledge(conversationId, group.cursor);
    this.postRead(conversationId, group);
  }

  // ---- edits and deletes (MLS application messages carrying a control envelope) -----------

  private applyControl(conversationId: string, group: Group, control: MessageControl, senderAccountId: string, seq: number | null, at: string): void {
    if (control.$type === TITLE_CONTENT_TYPE) {
      // Only admins of a group name it (the server's membership record says who is admin).
      const conversation = this.conversations.find((c) => c.id === conversationId);
      const sender = conversation?.members.find((m) => m.accountId === senderAccountId);
      if (conversation?.kind === 'group' && sender?.role === 'admin') group.title = control.title;
      else console.warn(`title of ${conversationId} from a non-admin ignored`);
      return;
    }
    const outcome = applyMessageControl(group.messages, control, senderAccountId, seq, at);
    if (outcome.applied) group.messages = outcome.messages;
    else console.warn(`${control.$type} of message ${control.target} in ${conversationId} ignored: ${outcome.reason}`);
  }

  /** Changes an own message on every device of every member, as an MLS-encrypted edit message. */
  editMessage(conversationId: string, key: string, text: string): Promise<void> {
    return this.sendControl(conversationId, key, (target) => ({ $type: EDIT_CONTENT_TYPE, target, text })).then(() => undefined);
  }

  /**
   * Deletes an own message on every device (an MLS-encrypted delete message), then deletes the
   * server's ciphertext of it and its attachments' blobs (recall), so devices that had not fetched
   * it yet never get it. The recall is best effort: the message may have expired already.
   */
  async deleteMessage(conversationId: string, key: string): Promise<void> {
    const target = await this.sendControl(conversationId, key, (seq) => ({ $type: DELETE_CONTENT_TYPE, target: seq }));
    await this.api.recallMessage(conversationId, target.seq!, (target.attachments ?? []).map((a) => a.blobId)).catch((error: unknown) => console.warn('the server copy could not be recalled', error));
  }

  /** Encrypts and sends one control message (inside the conversation's queue); returns its seq. */
  private async submitControl(conversationId: string, group: Group, control: MessageControl): Promise<number> {
    const epoch = Number(group.state.epoch);
    const { newState, message } = await mls.encryptMessage(group.state, utf8(encodeMessageControl(control)));
    group.state = newState;
    // Save, then send (a sender generation is never used twice).
    await this.save(conversationId, group);
    const { seq } = await this.submit(conversationId, { clientMessageId: crypto.randomUUID(), kind: 'application', epoch, body: toB64(message) });
    return seq;
  }

  private sendControl(conversationId: string, key: string, make: (seq: number) => MessageEditControl): Promise<ThreadMessage> {
    const group = this.groups.get(conversationId);
    if (!group) return Promise.reject(new Error('this device is not in the conversation'));
    return this.serial(conversationId, async () => {
      const target = group.messages.find((m) => m.key === key);
      if (!target || target.seq === null || target.senderAccountId !== this.accountId || target.deleted) throw new Error('only your own sent messages can be changed');
      const control = make(target.seq);
      const seq = await this.submitControl(conversationId, group, control);
      this.applyControl(conversationId, group, control, this.accountId, seq, new Date().toISOString());
      await this.save(conversationId, group);
      this.publish();
      return target;
    });
  }

  // ---- members and titles -----------------------------------------------------------------

  /** Adds people (admins): the server records them, then this device adds all their devices with one commit. */
  async addMembers(conversationId: string, accountIds: string[]): Promise<void> {
    await this.api.addConversationMembers(conversationId, accountIds);
    await this.refreshConversations();
    const conversation = this.conversations.find((c) => c.id === conversationId);
    if (conversation) await this.reconcile(conversation);
    // The newcomers can read only what follows their Welcome: tell them the group's name.
    const group = this.groups.get(conversationId);
    if (group?.title) await this.rename(conversationId, group.title);
    this.publish();
  }

  /** Removes a person (admins): delivery to them stops at once, then this device removes all their leaves. */
  async removeMember(conversationId: string, accountId: string): Promise<void> {
    await this.api.removeConversationMember(conversationId, accountId);
    await this.refreshConversations();
    const conversation = this.conversations.find((c) => c.id === conversationId);
    if (conversation) await this.reconcile(conversation);
    this.publish();
  }

  /** Leaves a conversation: the server stops delivery to this account; an admin's device removes our leaves. */
  async leave(conversationId: string): Promise<void> {
    await this.api.removeConversationMember(conversationId, this.accountId);
    await this.refreshConversations();
  }

  /**
   * Names a group (admins): an MLS title message, so the server never holds the name. Members who
   * join later get it again from the admin who adds them (see addMembers).
   */
  async rename(conversationId: string, title: string | null): Promise<void> {
    const group = this.groups.get(conversationId);
    if (!group) throw new Error('this device is not in the conversation');
    await this.serial(conversationId, async () => {
      await this.submitControl(conversationId, group, { $type: TITLE_CONTENT_TYPE, title });
      group.title = title;
      await this.save(conversationId, group);
    });
    this.publish();
  }

  /** The user is typing in a conversation: tell the others, at most every TYPING_SEND_MS (ephemeral, best effort). */
  notifyTyping(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingSent.get(conversationId) ?? 0) < TYPING_SEND_MS) return;
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.typingSent.set(conversationId, now);
    this.socket.send(JSON.stringify({ type: 'typing', conversationId } satisfies ClientFrame));
  }

  // ---- read markers and receipts ------------------------------------------------------------

  private isOnScreen(conversationId: string): boolean {
    return this.openConversationId === conversationId && document.visibilityState === 'visible';
  }

  /** Tells the server how far this person has read, when the thread is on screen (forward only). */
  private postRead(conversationId: string, group: Group): void {
    if (!this.isOnScreen(conversationId) || group.cursor === 0) return;
    const seq = group.cursor;
    if ((this.postedRead.get(conversationId) ?? 0) >= seq) return;
    this.postedRead.set(conversationId, seq);
    void this.api.markRead(conversationId, seq).catch(() => this.postedRead.delete(conversationId));
  }

  /**
   * The server holds an older read marker for this account than this device posted: read receipts
   * were off (the server keeps none then) and may be on again. Forget what was posted, so the thread
   * posts its position again now if on screen, else when next opened.
   */
  private repostReadIfNotKept(conversationId: string, receipts: readonly MemberReceipt[]): void {
    const own = receipts.find((r) => r.accountId === this.accountId);
    const posted = this.postedRead.get(conversationId);
    if (!own || posted === undefined || own.readSeq >= posted) return;
    this.postedRead.delete(conversationId);
    const group = this.groups.get(conversationId);
    if (group) this.postRead(conversationId, group);
  }

  /** Coming back to the tab reads what arrived in the open thread meanwhile. */
  private readonly onVisibility = () => {
    if (document.visibilityState === 'visible') this.setOpenConversation(this.openConversationId);
  };

  private readonly fetchedReceipts = new Set<string>();

  private async loadReceipts(conversationId: string): Promise<void> {
    if (this.fetchedReceipts.has(conversationId)) return;
    this.fetchedReceipts.add(conversationId);
    try {
      this.receipts.set(conversationId, (await this.api.getReceipts(conversationId)).receipts);
      this.publish();
    } catch {
      this.fetchedReceipts.delete(conversationId);
    }
  }

  private senderName(accountId: string, conversationId?: string): string {
    const conversations = conversationId ? this.conversations.filter((c) => c.id === conversationId) : this.conversations;
    for (const c of conversations) {
      const member = c.members.find((m) => m.accountId === accountId);
      if (member) return member.displayName;
    }
    return 'Unknown sender';
  }

  private async process(group: Group, m: StoredMessage): Promise<void> {
    if (m.seq <= group.cursor) return;
    group.cursor = m.seq;
    if (group.unsettled && m.kind === 'commit' && m.epoch === Number(group.state.epoch)) {
      // The commit for this epoch: ours (made before a restart) or another member's.
      const ours = m.senderDeviceId === this.secrets.identity.deviceId;
      if (ours) group.state = group.unsettled;
      group.unsettled = undefined;
      if (ours) return;
    }
    if (m.senderDeviceId === this.secrets.identity.deviceId) return; // already applied when sent
    if (!group.state.active) return; // removed: nothing after the removal can be read
    const base = { key: `${m.conversationId}:${m.seq}`, seq: m.seq, senderAccountId: m.senderAccountId, senderName: this.senderName(m.senderAccountId, m.conversationId), at: m.sentAt, own: false };
    try {
      const processed = await mls.processMessage(group.state, fromB64(m.body));
      group.state = processed.newState;
      if (processed.kind === 'application') {
        if (processed.sender.userId !== m.senderAccountId) throw new Error('the server and MLS disagree on the sender');
        const plaintext = fromUtf8(processed.plaintext);
        const control = decodeMessageControl(plaintext);
        // An edit or delete names its author by the MLS credential that signed it, nothing else.
        if (control) this.applyControl(m.conversationId, group, control, processed.sender.userId, m.seq, m.sentAt);
        else {
          group.messages = [...group.messages, { ...base, ...decodeMessageContent(plaintext), status: 'received' }];
          // Their message arrived: they have stopped typing it.
          this.typing.get(m.conversationId)?.delete(m.senderAccountId);
          if (this.isOnScreen(m.conversationId)) group.readSeq = m.seq;
        }
      }
    } catch (error) {
      console.warn(`message ${m.seq} of ${m.conversationId} could not be processed`, error);
      group.messages = [...group.messages, { ...base, text: '', status: 'undecryptable' }];
    }
  }

  /** A pushed message: processed at once when it is next in line, else fetched with the rest. */
  private receivePushed(m: StoredMessage): void {
    void this.serial(m.conversationId, async () => {
      const group = this.groups.get(m.conversationId);
      if (!group) {
        if (!this.conversations.some((c) => c.id === m.conversationId)) await this.refreshConversations();
        return;
      }
      if (m.seq === group.cursor + 1) {
        await this.process(group, m);
        await this.settle(m.conversationId, group);
      } else if (m.seq > group.cursor) {
        await this.catchUp(m.conversationId, group);
      }
    }).catch((error: unknown) => console.warn('message could not be received', error));
  }

  private joining: Promise<void> | null = null;

  /** Joins the conversations pending Welcomes are for; concurrent calls share one run. */
  joinWelcomes(): Promise<void> {
    this.joining ??= this.joinPendingWelcomes().finally(() => {
      this.joining = null;
    });
    return this.joining;
  }

  private async joinPendingWelcomes(): Promise<void> {
    const { welcomes } = await this.api.listWelcomes();
    if (welcomes.length === 0) return;
    await this.refreshConversations();
    for (const welcome of welcomes) {
      await this.serial(welcome.conversationId, () => this.join(welcome)).catch((error: unknown) =>
        console.warn(`the Welcome to ${welcome.conversationId} could not be used`, error),
      );
    }
    await this.topUpKeyPackages();
    this.publish();
  }

  private async join(welcome: PendingWelcome): Promise<void> {
    const earlier = this.groups.get(welcome.conversationId);
    // A person removed and later added again gets a new Welcome: the old group state stays dead,
    // its history stays readable.
    if (earlier?.state.active) {
      await this.api.consumeWelcome(welcome.id);
      return;
    }
    const { state, keyPackage } = await mls.joinGroup({
      identity: this.secrets.identity,
      keyPackages: this.secrets.keyPackages,
      welcome: fromB64(welcome.body),
      validateCredential: this.validateCredential,
      expectedGroupId: groupIdOf(welcome.conversationId),
    });
    const group: Group = { state, cursor: welcome.seq, readSeq: welcome.seq, messages: earlier?.messages ?? [], title: earlier?.title ?? null };
    await this.save(welcome.conversationId, group);
    if (!keyPackage.lastResort) await this.saveSecrets({ ...this.secrets, keyPackages: mls.forgetKeyPackage(this.secrets.keyPackages, keyPackage.ref) });
    this.groups.set(welcome.conversationId, group);
    await this.api.consumeWelcome(welcome.id);
    await this.catchUp(welcome.conversationId, group);
  }

  /** The thread on screen: its messages count as read. */
  setOpenConversation(conversationId: string | null): void {
    this.openConversationId = conversationId;
    if (conversationId) void this.loadReceipts(conversationId);
    const group = conversationId ? this.groups.get(conversationId) : undefined;
    if (!conversationId || !group || !this.isOnScreen(conversationId)) return;
    this.postRead(conversationId, group);
    if (group.readSeq >= group.cursor) return;
    group.readSeq = group.cursor;
    this.publish();
    void this.serial(conversationId, () => this.save(conversationId, group)).catch(() => undefined);
  }

  // ---- realtime ---------------------------------------------------------------------------

  private connect(): void {
    if (this.stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.reconnectDelay = 1000;
    };
    socket.onmessage = (event) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.socket = null;
      this.publish({ connected: false });
      if (this.stopped) return;
      if (event.code === 4401) {
        // The session ended or this device was revoked: any request now reports the session as
        // lost, which takes the app back to sign-in. Do not reconnect.
        void serverApi.listDevices().catch(() => undefined);
        return;
      }
      setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 30_000);
    };
  }

  private onFrame(frame: ServerFrame): void {
    if (this.stopped) return;
    const failed = (error: unknown) => console.warn(`${frame.type} frame could not be handled`, error);
    switch (frame.type) {
      case 'ready':
        this.publish({ connected: true });
        // Receipts pushed while the socket was down were lost: fetch them again when next shown.
        this.fetchedReceipts.clear();
        if (this.openConversationId) void this.loadReceipts(this.openConversationId);
        // Whatever arrived while the socket was down.
        void this.resync().catch(failed);
        break;
      case 'message':
        this.receivePushed(frame.message);
        break;
      case 'new':
        void this.refreshIfUnknown(frame.conversationId).then(() => this.sync(frame.conversationId)).catch(failed);
        break;
      case 'welcome':
        void this.joinWelcomes().catch(failed);
        break;
      case 'resync':
        void this.resync().catch(failed);
        break;
      case 'peers':
        void this.checkOwnDevices().catch(failed);
        // Every member's client hears this at once; a random pause lets one of them commit first,
        // so the rest usually find nothing left to do instead of racing into STALE_EPOCH.
        setTimeout(() => void this.refreshConversations().then(() => this.reconcileAll()).catch(failed), 500 + Math.random() * 2500);
        break;
      case 'receipts':
        this.receipts.set(frame.conversationId, frame.receipts);
        this.repostReadIfNotKept(frame.conversationId, frame.receipts);
        this.publish();
        break;
      case 'typing': {
        if (frame.accountId === this.accountId) break;
        let people = this.typing.get(frame.conversationId);
        if (!people) this.typing.set(frame.conversationId, (people = new Map()));
        people.set(frame.accountId, Date.now() + TYPING_SHOWN_MS);
        this.publish();
        setTimeout(() => this.publish(), TYPING_SHOWN_MS + 100);
        break;
      }
      case 'case':
        for (const listener of this.caseListeners) listener(frame.caseId);
        // A case may have brought this account into a new conversation.
        void this.refreshIfUnknown(frame.caseId).catch(failed);
        break;
      case 'error':
        console.warn(`server frame error ${frame.code}: ${frame.message}`);
        break;
      default:
        break;
    }
  }

  private async refreshIfUnknown(conversationId: string): Promise<void> {
    if (!this.conversations.some((c) => c.id === conversationId)) await this.refreshConversations();
  }

  private async resync(): Promise<void> {
    await this.refreshConversations();
    await this.joinWelcomes();
    await Promise.all(this.conversations.map((c) => this.sync(c.id)));
    await this.reconcileAll();
    await this.expireLocal();
  }
}

/** A reconciling commit found, after catching up, that another device had already done the work. */
class NothingToCommit extends Error {
  override readonly name = 'NothingToCommit';
}
function ignoreNothingToCommit(error: unknown): void {
  if (!(error instanceof NothingToCommit)) throw error;
}

/** The server answered and said no (4xx): the request had no effect and sending it again will not help. */
function isRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && error.code !== 'RATE_LIMITED';
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'unknown error';
}

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

/** ts-mls keeps Ed25519 keys as a raw 32-byte seed or as PKCS#8; WebCrypto imports PKCS#8. */
function ed25519Pkcs8(privateKey: Uint8Array): Uint8Array<ArrayBuffer> {
  if (privateKey.length !== 32) return new Uint8Array(privateKey);
  const prefix = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
  const out = new Uint8Array(48);
  out.set(prefix);
  out.set(privateKey, 16);
  return out;
}

/** Starts the messenger of the signed-in account; stop it when the session ends. */
export function startMessenger(accountId: string): Messenger {
  const messenger = new Messenger(accountId);
  void messenger.start();
  return messenger;
}

export async function fingerprintOf(device: { accountId: string; id: string; signaturePublicKey: string }): Promise<string> {
  const fp = await mls.deviceFingerprint({ userId: device.accountId, deviceId: device.id, signaturePublicKey: fromB64(device.signaturePublicKey) });
  return fp.text;
}
