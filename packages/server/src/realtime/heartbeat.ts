import type { WebSocket } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import type { Deps } from '../deps.js';
import { iso } from '../deps.js';

export const HEARTBEAT_MS = 30_000;
/** Session ids per query: under PostgreSQL's 65535 and SQLite's 32766 bound parameters. */
const SESSIONS_PER_QUERY = 10_000;

interface Beat {
  ws: WebSocket;
  sessionId: string;
  alive: boolean;
}

/**
 * One timer for every socket of this node. Each tick pings every socket (one that did not answer
 * the previous ping is cut), and checks in one query that the sessions behind them still hold
 * (not ended, not past their lifetime), closing the sockets of those that do not.
 */
export class Heartbeat {
  private readonly beats = new Set<Beat>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: Deps,
    private readonly log: FastifyBaseLogger,
    intervalMs = HEARTBEAT_MS,
  ) {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(ws: WebSocket, sessionId: string): void {
    const beat: Beat = { ws, sessionId, alive: true };
    this.beats.add(beat);
    ws.on('pong', () => (beat.alive = true));
    ws.on('close', () => this.beats.delete(beat));
  }

  /** How many sockets are watched (for tests and metrics). */
  get size(): number {
    return this.beats.size;
  }

  async tick(): Promise<void> {
    const beats = [...this.beats].filter((b) => {
      if (b.alive) return true;
      b.ws.terminate();
      this.beats.delete(b);
      return false;
    });
    for (const b of beats) {
      b.alive = false;
      b.ws.ping();
    }
    let live: Set<string>;
    try {
      live = await this.liveSessions([...new Set(beats.map((b) => b.sessionId))]);
    } catch (err) {
      this.log.warn({ err }, 'websocket session check failed');
      return;
    }
    for (const b of beats) if (!live.has(b.sessionId) && b.ws.readyState === b.ws.OPEN) b.ws.close(4401, 'session ended');
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async liveSessions(ids: string[]): Promise<Set<string>> {
    const live = new Set<string>();
    const now = iso(this.deps.now());
    for (let i = 0; i < ids.length; i += SESSIONS_PER_QUERY) {
      const rows = await this.deps.db
        .selectFrom('session')
        .select('id')
        .where('id', 'in', ids.slice(i, i + SESSIONS_PER_QUERY))
        .where('ended_at', 'is', null)
        .where('expires_at', '>', now)
        .execute();
      for (const r of rows) live.add(r.id);
    }
    return live;
  }
}
