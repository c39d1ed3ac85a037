/**
 * A simulated Consilium device for integration tests: it speaks the real HTTP and WebSocket
 * protocol to a real server (through a TestClient with its own session) and keeps real MLS group
 * state with @consilium/crypto, following the library's discipline (pending commits are confirmed
 * on 200 and discarded on STALE_EPOCH; own messages are never fed back; one-time key packages are
 * forgotten after a Welcome used them).
 */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import WebSocket from 'ws';
import {
  addMembers,
  confirmCommit,
  createDeviceIdentity,
  createGroup,
  discardCommit,
  encryptMessage,
  forgetKeyPackage,
  generateKeyPackages,
  groupMembers,
  joinGroup,
  processMessage,
  removeMembers,
  type CommitResult,
  type CredentialValidator,
  type DeviceIdentity,
  type DeviceRef,
  type GroupState,
  type KeyPackageSecret,
} from '@consilium/crypto';
import {
  ServerFrame,
  type ClaimedKeyPackages,
  type Conversation,
  type ConversationKind,
  type KeyPackageCount,
  type MessagePage,
  type PendingWelcome,
  type Role,
  type StoredMessage,
  type SubmitMessageBody,
} from '@consilium/protocol';
import type { ConfigInput } from '../config.js';
import { createOrganisation } from '../orgs/service.js';
import { createAccount } from '../accounts/service.js';
import { systemActor } from '../audit/record.js';
import { groupIdOf } from '../delivery/service.js';
import { PASSWORD, signIn, startTestServer, TestClient, type Reply, type TestServer, type TestServerOptions } from './harness.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const textOf = (b: Uint8Array): string => new TextDecoder().decode(b);
export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
export const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * A test server whose clock starts at the wall-clock time: key packages and group leaves are
 * stamped by the MLS library with the real time, and the server checks their lifetime with its
 * own clock, so the two must agree.
 */
export async function startMessagingServer(options: TestServerOptions & { config?: Partial<ConfigInput> } = {}): Promise<TestServer> {
  const server = await startTestServer(options.config, options);
  if (!options.storageOf) server.clock.advance((Date.now() - server.clock.now().getTime()) / 1000);
  return server;
}

/**
 * Every TCP connection the server accepts, so a test can cut them all before stopping it: a
 * connection the server itself never closes (see the refused-upgrade test in realtime/) would
 * otherwise keep stop() waiting forever and hide every other result of the file.
 */
export function trackConnections(server: TestServer): { destroyAll(): void; open(): number } {
  const sockets = new Set<import('node:net').Socket>();
  server.app.server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    destroyAll: () => {
      for (const s of sockets) s.destroy();
    },
    open: () => sockets.size,
  };
}

/**
 * A messaging server for one test file, with what its afterAll must undo: the sockets its tests
 * opened and every connection the server accepted (see trackConnections).
 */
export interface MessagingRig {
  server: TestServer;
  connections: ReturnType<typeof trackConnections>;
  /** Sockets to cut at stop(); open() adds to it, a test may push one it opened itself. */
  sockets: FrameSocket[];
  /** Opens the device's socket and waits for its ready frame, which must name the device. */
  open(device: MlsDevice): Promise<FrameSocket>;
  stop(): Promise<void>;
}

export async function startMessagingRig(options: Parameters<typeof startMessagingServer>[0] = {}): Promise<MessagingRig> {
  const server = await startMessagingServer(options);
  const connections = trackConnections(server);
  const sockets: FrameSocket[] = [];
  return {
    server,
    connections,
    sockets,
    async open(device) {
      const socket = await device.socket();
      sockets.push(socket);
      const ready = await socket.next('ready');
      if (ready.deviceId !== device.deviceId) throw new Error(`ready names device ${ready.deviceId}, not ${device.deviceId}`);
      return socket;
    },
    async stop() {
      for (const s of sockets) s.ws.terminate();
      connections.destroyAll();
      await server.stop();
    },
  };
}

/** The people most messaging tests need: three of one organisation, and Mallory of another. */
export interface MessagingCast {
  org: Organisation;
  otherOrg: Organisation;
  alice: Person;
  bob: Person;
  carol: Person;
  mallory: Person;
}

export async function seedMessagingCast(server: TestServer): Promise<MessagingCast> {
  const org = await seedOrganisation(server, 'St Elsewhere');
  const otherOrg = await seedOrganisation(server, 'County General');
  return {
    org,
    otherOrg,
    alice: await addPerson(server, org, 'alice'),
    bob: await addPerson(server, org, 'bob'),
    carol: await addPerson(server, org, 'carol'),
    mallory: await addPerson(server, otherOrg, 'mallory'),
  };
}

/** Stands in for the directory / key transparency log: which signature key each device registered. */
export class DeviceDirectory {
  private readonly keys = new Map<string, string>();
  register(identity: DeviceIdentity): void {
    this.keys.set(`${identity.userId}/${identity.deviceId}`, hex(identity.signaturePublicKey));
  }
  readonly validate: CredentialValidator = async (c) => this.keys.get(`${c.userId}/${c.deviceId}`) === hex(c.signaturePublicKey);
}

export interface Person {
  id: string;
  email: string;
  displayName: string;
  /** Set by the first sign-in (which enrols TOTP); later sign-ins need it. */
  totpSecret?: string;
}

export interface Organisation {
  id: string;
  name: string;
  slug: string;
}

/** An organisation (with a generous idle limit: big tests move the clock with every TOTP sign-in). */
export async function seedOrganisation(server: TestServer, name: string): Promise<Organisation> {
  const row = await createOrganisation(server.deps, name, { idleTimeoutMinutes: 480 });
  return { id: row.id, name: row.name, slug: row.slug };
}

export async function addPerson(server: TestServer, org: Organisation, local: string, role: Role = 'clinician'): Promise<Person> {
  const displayName = `${local[0]!.toUpperCase()}${local.slice(1)} of ${org.name}`;
  const a = await createAccount(server.deps, systemActor(org.id), {
    organisationId: org.id,
    email: `${local}@${org.slug}.test`,
    displayName,
    role,
    departmentId: null,
    password: PASSWORD,
  });
  return { id: a.id, email: a.email, displayName };
}

/** A fresh, fully signed-in session of the person (enrols TOTP the first time). */
export async function signInPerson(server: TestServer, person: Person): Promise<TestClient> {
  const { client, totpSecret } = await signIn(server, person.email, person.totpSecret);
  person.totpSecret = totpSecret;
  return client;
}

/** The server answered a device's request with something else than the device needs. */
export class ServerRefused extends Error {
  constructor(
    what: string,
    readonly reply: Reply,
  ) {
    super(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

function expectOk<T>(what: string, reply: Reply<T>): T {
  if (reply.status !== 200) throw new ServerRefused(what, reply);
  return reply.body;
}

/** What a device made of one message of a conversation. */
export interface ReceivedMessage {
  seq: number;
  epoch: number;
  kind: 'application' | 'commit';
  senderDeviceId: string;
  senderAccountId: string;
  /** Decrypted text of an application message. */
  text?: string;
  /** For a commit: whether it removed this device. */
  removedSelf?: boolean;
}

export interface GroupView {
  state: GroupState;
  /** The last sequence number this device has processed (or skipped as its own). */
  cursor: number;
  /** Everything it decrypted or processed, in order. */
  received: ReceivedMessage[];
  /** False once a commit removed this device. */
  active: boolean;
}

export interface CommitOutcome {
  /** The final reply: 200 (accepted), or the refusal when rebase was off. */
  reply: Reply;
  seq?: number;
  /** How many times another commit won the epoch before this one got through. */
  rebases: number;
}

export class MlsDevice {
  readonly groups = new Map<string, GroupView>();
  /** Private halves of the key packages this device published and has not used yet. */
  secrets: KeyPackageSecret[] = [];

  private constructor(
    readonly server: TestServer,
    readonly person: Person,
    readonly identity: DeviceIdentity,
    readonly directory: DeviceDirectory,
    public client: TestClient,
  ) {}

  get deviceId(): string {
    return this.identity.deviceId;
  }
  get ref(): DeviceRef {
    return { userId: this.person.id, deviceId: this.deviceId };
  }

  /** Signs the person in on a new session, registers a new device on it, and publishes key packages. */
  static async create(
    server: TestServer,
    person: Person,
    directory: DeviceDirectory,
    options: { name?: string; keyPackages?: number; lastResort?: boolean; client?: TestClient } = {},
  ): Promise<MlsDevice> {
    const client = options.client ?? (await signInPerson(server, person));
    const identity = await createDeviceIdentity({ userId: person.id, deviceId: randomUUID() });
    directory.register(identity);
    const device = new MlsDevice(server, person, identity, directory, client);
    expectOk(
      'register device',
      await client.post('/api/v1/devices', {
        deviceId: identity.deviceId,
        name: options.name ?? `device ${identity.deviceId.slice(0, 8)}`,
        ciphersuite: 1,
        signaturePublicKey: b64(identity.signaturePublicKey),
      }),
    );
    const count = options.keyPackages ?? 3;
    if (count > 0 || options.lastResort !== false) await device.uploadKeyPackages(count, options.lastResort ?? true);
    return device;
  }

  async uploadKeyPackages(count: number, lastResort = true): Promise<KeyPackageCount> {
    const batch = await generateKeyPackages(this.identity, { count, lastResort });
    const oneTime = batch.published.filter((p) => !p.lastResort).map((p) => b64(p.keyPackage));
    const last = batch.published.find((p) => p.lastResort);
    const reply = await this.client.post<KeyPackageCount>('/api/v1/devices/current/key-packages', {
      keyPackages: oneTime,
      ...(last && { lastResort: b64(last.keyPackage) }),
    });
    const body = expectOk('upload key packages', reply);
    this.secrets.push(...batch.secrets);
    return body;
  }

  /** Binds this device to a new session of its person, proving it holds the device's signature key. */
  async attach(client?: TestClient): Promise<Reply> {
    const session = client ?? (await signInPerson(this.server, this.person));
    const challenge = expectOk('device challenge', await session.post<{ challenge: string }>('/api/v1/devices/challenge')).challenge;
    const sessions = expectOk('list sessions', await session.get<{ sessions: { id: string; current: boolean }[] }>('/api/v1/me/sessions')).sessions;
    const sessionId = sessions.find((s) => s.current)!.id;
    const signature = signEd25519(this.identity.signaturePrivateKey, utf8(`consilium-device-attach:v1:${sessionId}:${challenge}`));
    const reply = await session.post('/api/v1/devices/attach', { deviceId: this.deviceId, signature: b64(signature) });
    if (reply.status === 200) this.client = session;
    return reply;
  }

  view(conversationId: string): GroupView {
    const view = this.groups.get(conversationId);
    if (!view) throw new Error(`device ${this.deviceId} is not in conversation ${conversationId}`);
    return view;
  }

  state(conversationId: string): GroupState {
    return this.view(conversationId).state;
  }

  /** Texts this device decrypted in a conversation, in order. */
  texts(conversationId: string): string[] {
    return this.view(conversationId).received.flatMap((m) => (m.text === undefined ? [] : [m.text]));
  }

  /** Members (devices) of the group as this device's MLS state sees them. */
  members(conversationId: string): DeviceRef[] {
    return groupMembers(this.state(conversationId)).map((m) => ({ userId: m.userId, deviceId: m.deviceId }));
  }

  /**
   * Creates a conversation (server record + MLS group at epoch 0) and adds every device of the
   * other members and of this person's other devices with one commit.
   */
  async createConversation(kind: ConversationKind, memberAccountIds: string[], id: string = randomUUID()): Promise<string> {
    expectOk('create conversation', await this.client.post<Conversation>('/api/v1/conversations', { id, kind, memberAccountIds }));
    await this.startGroup(id, memberAccountIds);
    return id;
  }

  /** Makes the MLS group of a conversation the server already recorded (a case, say) and adds everyone's devices. */
  async startGroup(id: string, memberAccountIds: string[]): Promise<void> {
    const state = await createGroup({ identity: this.identity, groupId: groupIdOf(id), validateCredential: this.directory.validate });
    this.groups.set(id, { state, cursor: 0, received: [], active: true });
    await this.addDevicesOf(id, [this.person.id, ...memberAccountIds.filter((a) => a !== this.person.id)]);
  }

  /** Records new members with the server, then adds all their devices with a commit. */
  async addMembers(conversationId: string, accountIds: string[]): Promise<{ claimed: ClaimedKeyPackages; outcome?: CommitOutcome }> {
    expectOk('add members', await this.client.post(`/api/v1/conversations/${conversationId}/members`, { accountIds }));
    return this.addDevicesOf(conversationId, accountIds);
  }

  async claim(accountIds: string[]): Promise<Reply<ClaimedKeyPackages>> {
    return this.client.post<ClaimedKeyPackages>('/api/v1/key-packages/claim', { accountIds });
  }

  /** Claims key packages of the accounts' devices not yet in the group and adds them with one commit. */
  async addDevicesOf(conversationId: string, accountIds: string[]): Promise<{ claimed: ClaimedKeyPackages; outcome?: CommitOutcome }> {
    const present = new Set(this.members(conversationId).map((m) => m.deviceId));
    const claimed = expectOk('claim key packages', await this.claim(accountIds));
    const fresh = claimed.keyPackages.filter((k) => !present.has(k.deviceId));
    if (fresh.length === 0) return { claimed };
    const outcome = await this.commit(conversationId, (s) => addMembers(s, fresh.map((k) => fromB64(k.keyPackage))), { addedDeviceIds: fresh.map((k) => k.deviceId) });
    return { claimed, outcome };
  }

  /** Removes the named devices' leaves with a commit. */
  async removeDevices(conversationId: string, devices: DeviceRef[], options: { rebase?: boolean } = {}): Promise<CommitOutcome> {
    return this.commit(conversationId, (s) => removeMembers(s, devices), { removedDeviceIds: devices.map((d) => d.deviceId) }, options);
  }

  /** Removes a person from the conversation on the server, then their leaves from the group. */
  async removePerson(conversationId: string, accountId: string): Promise<CommitOutcome> {
    expectOk('remove member', await this.client.delete(`/api/v1/conversations/${conversationId}/members/${accountId}`));
    return this.removeDevices(conversationId, this.members(conversationId).filter((m) => m.userId === accountId));
  }

  /**
   * Makes a commit with `make`, submits it and settles it: confirmCommit on 200; on STALE_EPOCH
   * discardCommit, catch up (process the winner) and make it again, unless `rebase` is false.
   */
  async commit(
    conversationId: string,
    make: (state: GroupState) => Promise<CommitResult>,
    routing: { addedDeviceIds?: string[]; removedDeviceIds?: string[]; attachmentIds?: string[] },
    options: { rebase?: boolean; attempts?: number } = {},
  ): Promise<CommitOutcome> {
    const view = this.view(conversationId);
    const attempts = options.attempts ?? 5;
    for (let rebases = 0; ; rebases++) {
      const result = await make(view.state);
      const reply = await this.submit(conversationId, {
        clientMessageId: randomUUID(),
        kind: 'commit',
        epoch: Number(view.state.epoch),
        body: b64(result.commit),
        ...(result.welcome && { welcome: b64(result.welcome) }),
        addedDeviceIds: routing.addedDeviceIds ?? [],
        removedDeviceIds: routing.removedDeviceIds ?? [],
        ...(routing.attachmentIds && { attachmentIds: routing.attachmentIds }),
      });
      if (reply.status === 200) {
        view.state = confirmCommit(result.newState);
        return { reply, seq: reply.body.seq, rebases };
      }
      view.state = discardCommit(result.newState);
      const stale = reply.status === 409 && reply.body?.error?.code === 'STALE_EPOCH';
      if (!stale || options.rebase === false) return { reply, rebases };
      if (rebases + 1 >= attempts) throw new ServerRefused(`commit still stale after ${attempts} attempts`, reply);
      await this.receive(conversationId);
    }
  }

  /** POSTs one message as given (no MLS work). */
  submit(conversationId: string, body: SubmitMessageBody): Promise<Reply> {
    return this.client.post(`/api/v1/conversations/${conversationId}/messages`, body);
  }

  /** Encrypts a text (advancing this device's state) without sending it. */
  async encrypt(conversationId: string, text: string): Promise<SubmitMessageBody & { epoch: number; body: string }> {
    const view = this.view(conversationId);
    const epoch = Number(view.state.epoch);
    const { newState, message } = await encryptMessage(view.state, utf8(text));
    view.state = newState;
    return { clientMessageId: randomUUID(), kind: 'application', epoch, body: b64(message) };
  }

  /** Encrypts and sends a text; returns its sequence number. */
  async send(conversationId: string, text: string): Promise<number> {
    const reply = await this.submit(conversationId, await this.encrypt(conversationId, text));
    return expectOk('send message', reply).seq as number;
  }

  fetch(conversationId: string, after: number, limit = 100): Promise<Reply<MessagePage>> {
    return this.client.get<MessagePage>(`/api/v1/conversations/${conversationId}/messages?after=${after}&limit=${limit}`);
  }

  ack(conversationId: string, seq: number): Promise<Reply> {
    return this.client.post(`/api/v1/conversations/${conversationId}/ack`, { seq });
  }

  /** Processes one stored message (as fetched or pushed) with this device's state. */
  async process(conversationId: string, m: StoredMessage): Promise<ReceivedMessage> {
    const view = this.view(conversationId);
    if (m.seq <= view.cursor) throw new Error(`seq ${m.seq} is not after the cursor ${view.cursor}`);
    const base = { seq: m.seq, epoch: m.epoch, kind: m.kind, senderDeviceId: m.senderDeviceId, senderAccountId: m.senderAccountId };
    if (m.senderDeviceId === this.deviceId) {
      view.cursor = m.seq; // our own: already applied when it was sent
      return base;
    }
    const processed = await processMessage(view.state, fromB64(m.body));
    view.state = processed.newState;
    view.cursor = m.seq;
    let received: ReceivedMessage;
    if (processed.kind === 'application') {
      if (processed.sender.deviceId !== m.senderDeviceId || processed.sender.userId !== m.senderAccountId) {
        throw new Error(`seq ${m.seq}: server says ${m.senderDeviceId}, MLS says ${processed.sender.deviceId}`);
      }
      received = { ...base, text: textOf(processed.plaintext) };
    } else if (processed.kind === 'commit') {
      received = { ...base, removedSelf: processed.removedSelf };
      if (processed.removedSelf) view.active = false;
    } else {
      received = base;
    }
    view.received.push(received);
    return received;
  }

  /**
   * Fetches everything after the cursor, page by page, processes it in order (skipping own
   * messages), and acknowledges the last one. Returns what was processed.
   */
  async receive(conversationId: string, options: { ack?: boolean; limit?: number; max?: number } = {}): Promise<ReceivedMessage[]> {
    const view = this.view(conversationId);
    const limit = options.limit ?? 100;
    const out: ReceivedMessage[] = [];
    const start = view.cursor;
    for (;;) {
      const page = expectOk('fetch messages', await this.fetch(conversationId, view.cursor, limit));
      for (const m of page.messages) {
        if (options.max !== undefined && out.length >= options.max) break;
        out.push(await this.process(conversationId, m));
        if (!view.active) break;
      }
      if (page.messages.length < limit || !view.active || (options.max !== undefined && out.length >= options.max)) break;
    }
    if ((options.ack ?? true) && view.cursor > start) expectOk('acknowledge', await this.ack(conversationId, view.cursor));
    return out;
  }

  /** Joins every conversation a pending Welcome is for; returns their ids. */
  async joinWelcomes(): Promise<string[]> {
    const welcomes = expectOk('list welcomes', await this.client.get<{ welcomes: PendingWelcome[] }>('/api/v1/welcomes')).welcomes;
    const joined: string[] = [];
    for (const w of welcomes) {
      const { state, keyPackage } = await joinGroup({
        identity: this.identity,
        keyPackages: this.secrets,
        welcome: fromB64(w.body),
        validateCredential: this.directory.validate,
        expectedGroupId: groupIdOf(w.conversationId),
      });
      if (!keyPackage.lastResort) this.secrets = forgetKeyPackage(this.secrets, keyPackage.ref);
      this.groups.set(w.conversationId, { state, cursor: w.seq, received: [], active: true });
      expectOk('consume welcome', await this.client.post(`/api/v1/welcomes/${w.id}/consumed`));
      joined.push(w.conversationId);
    }
    return joined;
  }

  /** Opens this device's WebSocket with its session cookie. */
  socket(options: { origin?: string } = {}): Promise<FrameSocket> {
    return FrameSocket.open(this.server.url, this.client, options);
  }
}

/** Sign with a device's Ed25519 key as ts-mls keeps it (PKCS#8 DER, or a raw 32-byte seed). */
export function signEd25519(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  const der = privateKey.length === 32 ? Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), privateKey]) : Buffer.from(privateKey);
  return new Uint8Array(sign(null, message, createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })));
}

/** Every device reads every conversation it is in until nothing new arrives. */
export async function syncAll(devices: MlsDevice[], conversationId: string): Promise<void> {
  for (const d of devices) {
    const view = d.groups.get(conversationId);
    if (view?.active) await d.receive(conversationId);
  }
}

/** The upgrade was answered with an HTTP error instead of 101. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`upgrade refused: ${status} ${JSON.stringify(body)}`);
  }
}

/**
 * A device's WebSocket, collecting every server frame. Frames are checked against the protocol's
 * ServerFrame schema as they arrive (`invalidFrames` holds any that do not fit).
 */
export class FrameSocket {
  readonly frames: ServerFrame[] = [];
  readonly invalidFrames: unknown[] = [];
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | null = null;
  readonly whenClosed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      let json: unknown;
      try {
        json = JSON.parse(data.toString('utf8'));
      } catch {
        this.invalidFrames.push({ isBinary, text: data.toString('utf8') });
        return;
      }
      const parsed = ServerFrame.safeParse(json);
      if (parsed.success) this.frames.push(parsed.data);
      else this.invalidFrames.push(json);
      this.wake();
    });
    this.whenClosed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString('utf8') };
        this.wake();
        resolve(this.closed);
      });
    });
  }

  /** Connects; rejects with UpgradeRefused when the server answers the upgrade with an error. */
  static open(baseUrl: string, client: TestClient | null, options: { origin?: string; cookie?: string } = {}): Promise<FrameSocket> {
    const headers: Record<string, string> = {};
    const cookie = options.cookie ?? (client && client.cookies.size ? [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined);
    if (cookie) headers.cookie = cookie;
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, { headers, ...(options.origin && { origin: options.origin }) });
    const socket = new FrameSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* keep text */
          }
          reject(new UpgradeRefused(res.statusCode ?? 0, body));
          ws.terminate();
        });
      });
      ws.once('error', (err) => reject(err));
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The first frame not taken yet that matches, waiting up to `timeoutMs` for it. */
  async next<T extends ServerFrame['type']>(
    type: T,
    match: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f, i) => !this.taken.has(i) && f.type === type && match(f as Extract<ServerFrame, { type: T }>));
      if (i >= 0) {
        this.taken.add(i);
        return this.frames[i] as Extract<ServerFrame, { type: T }>;
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before a ${type} frame arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Frames of a type received so far (taken or not). */
  all<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((f) => f.type === type) as Extract<ServerFrame, { type: T }>[];
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Sends a ping frame and waits for its pong: proves the socket still answers. */
  async ping(id: string = randomUUID().slice(0, 8)): Promise<void> {
    this.send({ type: 'ping', id });
    await this.next('pong', (f) => f.id === id);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (!this.closed) this.ws.close();
    return this.whenClosed;
  }
}

/** Polls `check` until it returns true (for effects with no reply of their own, such as WebSocket acks). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
