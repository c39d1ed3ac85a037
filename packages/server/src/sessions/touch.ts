import type { Db } from '../db/database.js';

/** Session ids per UPDATE: under SQLite's and PostgreSQL's bound-parameter limits. */
const IDS_PER_UPDATE = 5000;

interface PendingTouches {
  at: string;
  ids: Set<string>;
  done: Promise<void>;
}

const pending = new WeakMap<Db, PendingTouches>();

/**
 * Records that sessions were used (last_seen_at, for the idle logoff). Every request of a busy
 * node touches some session; touches made in one event-loop turn share one UPDATE (one commit, one
 * fsync on SQLite) instead of one write each. Resolves once written, so the next request sees it.
 */
export function touchSession(db: Db, sessionId: string, at: string): Promise<void> {
  if (db.isTransaction) return db.updateTable('session').set({ last_seen_at: at }).where('id', '=', sessionId).execute().then(() => undefined);
  let batch = pending.get(db);
  if (!batch) {
    const fresh: PendingTouches = { at, ids: new Set(), done: Promise.resolve() };
    fresh.done = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        pending.delete(db);
        write(db, fresh).then(resolve, reject);
      });
    });
    pending.set(db, (batch = fresh));
  }
  batch.ids.add(sessionId);
  if (at > batch.at) batch.at = at;
  return batch.done;
}

async function write(db: Db, batch: PendingTouches): Promise<void> {
  const ids = [...batch.ids];
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < ids.length; i += IDS_PER_UPDATE) {
      await tx
        .updateTable('session')
        .set({ last_seen_at: batch.at })
        .where('id', 'in', ids.slice(i, i + IDS_PER_UPDATE))
        .where('last_seen_at', '<', batch.at)
        .execute();
    }
  });
}
