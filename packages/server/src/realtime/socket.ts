import type { WebSocket } from 'ws';
import { CLIENT_FRAMES_PER_SECOND, ClientFrame, MAX_CLIENT_FRAME_BYTES, type ServerFrame } from '@consilium/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { DeliveryEvent } from '../delivery/fan-out.js';

/** Above this many bytes queued for a socket, notifications are dropped and the device told to resync. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const HEARTBEAT_MS = 30_000;

/** Frames are serialised once per event and shared by every socket that gets it. */
const frameCache = new WeakMap<DeliveryEvent, string>();
export function frameOf(event: DeliveryEvent): string {
  let text = frameCache.get(event);
  if (!text) {
    const frame: ServerFrame =
      event.type === 'message'
        ? event.message
          ? { type: 'message', message: event.message }
          : { type: 'new', conversationId: event.conversationId, seq: event.seq }
        : event.type === 'welcome'
          ? { type: 'welcome', conversationId: event.conversationId, seq: event.seq }
          : { type: 'error', code: 'DEVICE_REVOKED', message: 'this device was revoked' };
    text = JSON.stringify(frame);
    frameCache.set(event, text);
  }
  return text;
}

export interface DeviceSocketHandlers {
  ack(conversationId: string, seq: number): Promise<void>;
  /** Whether the session behind the socket still holds (checked at every heartbeat, without touching it). */
  sessionLive(): Promise<boolean>;
}

/**
 * One device's socket: validated client frames, a per-device frame budget, heartbeats, and
 * backpressure (a slow reader loses notifications, never messages: it is told to resync).
 */
export class DeviceSocket {
  private lagging = false;
  private alive = true;
  private windowStart = Date.now();
  private framesInWindow = 0;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly ws: WebSocket,
    private readonly handlers: DeviceSocketHandlers,
    private readonly log: FastifyBaseLogger,
  ) {
    ws.on('pong', () => (this.alive = true));
    ws.on('message', (data: Buffer, isBinary: boolean) => void this.onFrame(data, isBinary));
    this.heartbeat = setInterval(() => {
      if (!this.alive) return ws.terminate();
      this.alive = false;
      ws.ping();
      handlers.sessionLive().then(
        (live) => live || ws.close(4401, 'session ended'),
        (err: unknown) => log.warn({ err }, 'websocket session check failed'),
      );
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    ws.on('close', () => clearInterval(this.heartbeat));
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  deliver(event: DeliveryEvent): void {
    if (event.type === 'revoked') {
      this.sendText(frameOf(event));
      this.ws.close(4401, 'device revoked');
      return;
    }
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      if (!this.lagging) {
        this.lagging = true;
        const check = setInterval(() => {
          if (this.ws.readyState !== this.ws.OPEN) return clearInterval(check);
          if (this.lagging && this.ws.bufferedAmount <= MAX_BUFFERED_BYTES / 2) {
            clearInterval(check);
            this.lagging = false;
            this.send({ type: 'resync' });
          }
        }, 100);
        check.unref();
      }
      return;
    }
    if (this.lagging) {
      this.lagging = false;
      this.send({ type: 'resync' });
    }
    this.sendText(frameOf(event));
  }

  private sendText(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  private error(code: string, message: string): void {
    this.send({ type: 'error', code, message });
  }

  private async onFrame(data: Buffer, isBinary: boolean): Promise<void> {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.framesInWindow = 0;
    }
    if (++this.framesInWindow > CLIENT_FRAMES_PER_SECOND) {
      if (this.framesInWindow > CLIENT_FRAMES_PER_SECOND * 5) this.ws.close(4429, 'too many frames');
      return this.error('RATE_LIMITED', `at most ${CLIENT_FRAMES_PER_SECOND} frames per second`);
    }
    if (isBinary || data.length > MAX_CLIENT_FRAME_BYTES) return this.error('VALIDATION_FAILED', `send JSON text frames of at most ${MAX_CLIENT_FRAME_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      return this.error('MALFORMED_JSON', 'frame is not valid JSON');
    }
    const parsed = ClientFrame.safeParse(json);
    if (!parsed.success) return this.error('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`).join('; '));
    const frame = parsed.data;
    try {
      if (frame.type === 'ping') this.send({ type: 'pong', ...(frame.id !== undefined && { id: frame.id }) });
      else await this.handlers.ack(frame.conversationId, frame.seq);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'INTERNAL';
      if (code === 'INTERNAL') this.log.error({ err }, 'websocket frame failed');
      this.error(code, code === 'INTERNAL' ? 'something went wrong on our side' : (err as Error).message);
    }
  }
}
