/**
 * "There is something new for this device": the only thing that crosses between server nodes.
 * Never the only copy of a message; the database is the source of truth and a device that misses
 * a notification catches up from its cursor. In-process here; a NATS adapter (subjects per device)
 * implements the same port when several nodes share one PostgreSQL.
 */
import type { StoredMessage } from '@consilium/protocol';

export type DeliveryEvent =
  /** `message` rides along in-process so one serialised frame serves every socket; it may be absent. */
  | { type: 'message'; conversationId: string; seq: number; message?: StoredMessage }
  | { type: 'welcome'; conversationId: string; seq: number }
  | { type: 'revoked' };

export type DeliveryListener = (event: DeliveryEvent) => void;

export interface FanOut {
  publish(deviceIds: readonly string[], event: DeliveryEvent): void;
  subscribe(deviceId: string, listener: DeliveryListener): () => void;
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

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
