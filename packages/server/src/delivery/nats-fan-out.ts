/**
 * The FanOut port over NATS, for several server nodes sharing one PostgreSQL: each node
 * subscribes to `consilium.device.<id>` for the devices whose sockets it holds, and publishes a
 * notice ("conversation C has something new up to seq N") to the subject of every recipient.
 *
 * Core NATS (at-most-once), not JetStream: a notice is never the only copy of a message (the
 * database is), so a lost notice costs latency, not data. The gaps are closed from the
 * database: a device catches up from its cursor when it (re)connects, and when this node's NATS
 * connection comes back after a break every local socket is told to resync.
 *
 * Devices on this node get the in-process event (with the message body, so they need no fetch);
 * `noEcho` keeps this node from hearing its own notices a second time.
 */
import { connect, Events, type NatsConnection, type Subscription } from 'nats';
import { z } from 'zod';
import { MAX_CONVERSATION_DEVICES, MemberReceipt } from '@consilium/protocol';
import { InProcessFanOut, type DeliveryEvent, type DeliveryListener, type FanOut } from './fan-out.js';

export const DEVICE_SUBJECT_PREFIX = 'consilium.device.';

/** What crosses between nodes: never a message body, never key material. */
const Notice = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('message'), c: z.uuid(), s: z.number().int().nonnegative() }),
  z.strictObject({ t: z.literal('welcome'), c: z.uuid(), s: z.number().int().nonnegative() }),
  z.strictObject({ t: z.literal('revoked') }),
  z.strictObject({ t: z.literal('case'), id: z.uuid() }),
  z.strictObject({ t: z.literal('peers') }),
  /** Receipts are sequence numbers per account (metadata the server holds anyway), never content. */
  z.strictObject({ t: z.literal('typing'), c: z.uuid(), a: z.uuid() }),
  z.strictObject({ t: z.literal('receipts'), c: z.uuid(), r: z.array(MemberReceipt).max(MAX_CONVERSATION_DEVICES) }),
]);
type Notice = z.infer<typeof Notice>;

function noticeOf(event: DeliveryEvent): Notice | null {
  switch (event.type) {
    case 'message':
    case 'welcome':
      return { t: event.type, c: event.conversationId, s: event.seq };
    case 'revoked':
      return { t: 'revoked' };
    case 'case':
      return { t: 'case', id: event.caseId };
    case 'peers':
      return { t: 'peers' };
    case 'receipts':
      return { t: 'receipts', c: event.conversationId, r: event.receipts };
    case 'typing':
      return { t: 'typing', c: event.conversationId, a: event.accountId };
    case 'resync':
      // This node's own business (its NATS connection broke), never forwarded.
      return null;
    default: {
      // A new kind of event must be given a notice here, or it would silently stay on one node.
      const unhandled: never = event;
      return unhandled;
    }
  }
}

function eventOf(notice: Notice): DeliveryEvent {
  switch (notice.t) {
    case 'message':
    case 'welcome':
      return { type: notice.t, conversationId: notice.c, seq: notice.s };
    case 'case':
      return { type: 'case', caseId: notice.id };
    case 'receipts':
      return { type: 'receipts', conversationId: notice.c, receipts: notice.r };
    case 'typing':
      return { type: 'typing', conversationId: notice.c, accountId: notice.a };
    case 'revoked':
    case 'peers':
      return { type: notice.t };
  }
}

export interface NatsFanOutOptions {
  /** Shown in `nats server report connections`. */
  name?: string;
  /** Notices that cannot be read (another version on the bus) and connection trouble. */
  warn?: (message: string, detail?: unknown) => void;
}

export class NatsFanOut implements FanOut {
  private readonly local = new InProcessFanOut();
  private readonly subscriptions = new Map<string, { sub: Subscription; listeners: number }>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly warn: (message: string, detail?: unknown) => void,
  ) {
    void this.watchStatus();
  }

  /** Connects (failing fast if NATS does not answer) and keeps reconnecting for ever afterwards. */
  static async connect(url: string, options: NatsFanOutOptions = {}): Promise<NatsFanOut> {
    const nc = await connect({
      servers: url.split(',').map((s) => s.trim()),
      name: options.name ?? 'consilium-server',
      noEcho: true,
      maxReconnectAttempts: -1,
      timeout: 5000,
    });
    return new NatsFanOut(nc, options.warn ?? ((message) => process.emitWarning(message)));
  }

  publish(deviceIds: readonly string[], event: DeliveryEvent): void {
    this.local.publish(deviceIds, event);
    const notice = noticeOf(event);
    if (!notice || this.nc.isClosed()) return;
    // One encoding for every recipient; the client library coalesces the writes of a turn.
    const data = this.encoder.encode(JSON.stringify(notice));
    for (const id of deviceIds) this.nc.publish(DEVICE_SUBJECT_PREFIX + id, data);
  }

  subscribe(deviceId: string, listener: DeliveryListener): () => void {
    const unsubscribeLocal = this.local.subscribe(deviceId, listener);
    let entry = this.subscriptions.get(deviceId);
    if (!entry) {
      const sub = this.nc.subscribe(DEVICE_SUBJECT_PREFIX + deviceId, {
        callback: (err, msg) => {
          if (err) return this.warn(`NATS subscription for a device failed: ${err.message}`);
          const parsed = Notice.safeParse(this.parse(msg.data));
          if (!parsed.success) return this.warn('unreadable delivery notice on NATS; ignored');
          this.local.publish([deviceId], eventOf(parsed.data));
        },
      });
      entry = { sub, listeners: 0 };
      this.subscriptions.set(deviceId, entry);
    }
    entry.listeners++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      unsubscribeLocal();
      const current = this.subscriptions.get(deviceId);
      if (current && --current.listeners === 0) {
        this.subscriptions.delete(deviceId);
        if (!this.nc.isClosed()) current.sub.unsubscribe();
      }
    };
  }

  /** A PING/PONG with the NATS server: every SUB sent before it is in force. */
  async settled(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.flush();
  }

  async close(): Promise<void> {
    await this.local.close();
    this.subscriptions.clear();
    if (!this.nc.isClosed()) await this.nc.drain();
  }

  private parse(data: Uint8Array): unknown {
    try {
      return JSON.parse(this.decoder.decode(data));
    } catch {
      return null;
    }
  }

  /** After a break in the NATS connection, notices may have been lost: every local device resyncs. */
  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Reconnect) this.local.broadcast({ type: 'resync' });
      else if (status.type === Events.Disconnect) this.warn('NATS connection lost; reconnecting (devices resync when it is back)');
    }
  }
}
