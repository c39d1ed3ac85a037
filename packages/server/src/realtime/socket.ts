import type { WebSocket } from 'ws';
import { CLIENT_FRAMES_PER_SECOND, ClientFrame, MAX_CLIENT_FRAME_BYTES, type ServerFrame } from '@consilium/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { DeliveryEvent } from '../delivery/fan-out.js';

/** Above this many bytes queued for a socket, notifications are dropped and the device told to resync. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export { HEARTBEAT_MS } from './heartbeat.js';

/**
 * Frames are serialised and UTF-8 encoded once per event and the same bytes go to every socket
 * that gets it (a 100-device group encodes one frame, not 99).
 */
const frameCache = new WeakMap<DeliveryEvent, Buffer>();
export function frameOf(event: DeliveryEvent): Buffer {
  let bytes = frameCache.get(event);
  if (!bytes) {
    const frame: ServerFrame =
      event.type === 'message'
        ? event.message
          ? { type: 'message', message: event.message }
          : { type: 'new', conversationId: event.conversationId, seq: event.seq }
        : event.type === 'welcome'
          ? { type: 'welcome', conversationId: event.conversationId, seq: event.seq }
          : event.type === 'resync'
            ? { type: 'resync' }
            : event.type === 'case'
              ? { type: 'case', caseId: event.caseId }
              : event.type === 'peers'
                ? { type: 'peers' }
                : event.type === 'receipts'
                  ? { type: 'receipts', conversationId: event.conversationId, receipts: event.receipts }
                  : event.type === 'typing'
                    ? { type: 'typing', conversationId: event.conversationId, accountId: event.accountId }
                    : { type: 'error', code: 'DEVICE_REVOKED', message: 'this device was revoked' };
    bytes = Buffer.from(JSON.stringify(frame), 'utf8');
    frameCache.set(event, bytes);
  }
  return bytes;
}

export interface DeviceSocketHandlers {
  ack(conversationId: string, seq: number): Promise<void>;
  typing(conversationId: string): Promise<void>;
}

/**
 * One device's socket: validated client frames, a per-device frame budget, and backpressure (a
 * slow reader loses notifications, never messages: it is told to resync). Heartbeats are the
 * node's Heartbeat, one timer and one session query for every socket.
 */
export class DeviceSocket {
  private lagging = false;
  private corked = false;
  private windowStart = Date.now();
  private framesInWindow = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly handlers: DeviceSocketHandlers,
    private readonly log: FastifyBaseLogger,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => void this.onFrame(data, isBinary));
  }

  send(frame: ServerFrame): void {
    this.sendText(Buffer.from(JSON.stringify(frame), 'utf8'));
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

  /** UTF-8 bytes sent as a text frame (ws would otherwise encode a string again for each socket). */
  private sendText(bytes: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.cork();
    this.ws.send(bytes, { binary: false });
  }

  /**
   * Holds this socket's writes until the current batch of notifications has been handed out (the
   * end of this tick), so several frames for one device leave in one write, not one syscall each.
   * `_socket` is ws's underlying net.Socket (not in its typings, stable across ws 8).
   */
  private cork(): void {
    if (this.corked) return;
    const raw = (this.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!raw || typeof raw.cork !== 'function') return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
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
      else if (frame.type === 'typing') await this.handlers.typing(frame.conversationId);
      else await this.handlers.ack(frame.conversationId, frame.seq);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'INTERNAL';
      if (code === 'INTERNAL') this.log.error({ err }, 'websocket frame failed');
      this.error(code, code === 'INTERNAL' ? 'something went wrong on our side' : (err as Error).message);
    }
  }
}
