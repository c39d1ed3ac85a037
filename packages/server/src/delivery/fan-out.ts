/**
 * "There is something new for this device": the only thing that crosses between server nodes.
 * Never the only copy of a message; the database is the source of truth and a device that misses
 * a notification catches up from its cursor. In-process here; NatsFanOut (nats-fan-out.ts, subjects
 * per device) implements the same port when several nodes share one PostgreSQL.
 */
import type { MemberReceipt, StoredMessage } from '@consilium/protocol';

export type DeliveryEvent =
  /** `message` rides along in-process so one serialised frame serves every socket; it may be absent. */
  | { type: 'message'; conversationId: string; seq: number; message?: StoredMessage }
  | { type: 'welcome'; conversationId: string; seq: number }
  | { type: 'revoked' }
  /** A patient case this device's account takes part in changed (paged, accepted, closed): refetch it. */
  | { type: 'case'; caseId: string }
  /** A colleague sharing a conversation gained or lost a device: bring the groups in line (add or remove leaves). */
  | { type: 'peers' }
  /** A member is typing (ephemeral: never stored, lost without harm). */
  | { type: 'typing'; conversationId: string; accountId: string }
  /** Delivery or read state of a conversation changed: every current member's receipt. */
  | { type: 'receipts'; conversationId: string; receipts: MemberReceipt[] }
  /** Notifications may have been lost (the node's NATS connection broke): fetch from the cursors. */
  | { type: 'resync' };

export type DeliveryListener = (event: DeliveryEvent) => void;

export interface FanOut {
  publish(deviceIds: readonly string[], event: DeliveryEvent): void;
  subscribe(deviceId: string, listener: DeliveryListener): () => void;
  /** Resolves once the subscriptions made so far hear everything published anywhere (a round trip to NATS). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export class InProcessFanOut implements FanOut {
  private readonly listeners = new Map<string, Set<DeliveryListener>>();

  publish(deviceIds: readonly string[], event: DeliveryEvent): void {
    for (const id of deviceIds) {
      for (const listener of this.listeners.get(id) ?? []) listener(event);
    }
  }

  subscribe(deviceId: string, listener: DeliveryListener): () => void {
    let set = this.listeners.get(deviceId);
    if (!set) this.listeners.set(deviceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(deviceId);
    };
  }

  async settled(): Promise<void> {}

  /** Every device with a listener on this node. */
  broadcast(event: DeliveryEvent): void {
    for (const set of this.listeners.values()) for (const listener of set) listener(event);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/** In-process unless `natsUrl` is set (several nodes sharing one PostgreSQL). */
export async function openFanOut(config: { natsUrl?: string | undefined }, warn?: (message: string) => void): Promise<FanOut> {
  if (!config.natsUrl) return new InProcessFanOut();
  const { NatsFanOut } = await import('./nats-fan-out.js');
  return NatsFanOut.connect(config.natsUrl, warn ? { warn } : {});
}
