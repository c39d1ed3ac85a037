import { nativeLeafHash, RunningTree } from './native-hash.js';
import { CompactRange } from '@consilium/crypto/merkle';
import type { Db } from '../db/database.js';
import { encodeLeaf, type AuditEvent } from './leaf.js';
import * as store from './store.js';
import { appendToTree } from './tiles.js';

export const DEPLOYMENT_LOG = 'deployment';

/** Each organisation has its own log, so its officers can verify all of it and see no one else's. */
export const logIdFor = (organisationId: string | null) => organisationId ?? DEPLOYMENT_LOG;

/**
 * Key transparency: each organisation's device keys (added, revoked) go to a second log, which
 * every member's client checks before it trusts a colleague's device key.
 */
export const keyLogIdFor = (organisationId: string) => `keys/${organisationId}`;

const toB64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export function rangeOf(head: { size: number; compact_hashes: string }): CompactRange {
  return CompactRange.fromHashes(Number(head.size), (JSON.parse(head.compact_hashes) as string[]).map(fromB64));
}

/**
 * Appends events to their logs. Call it inside the transaction of the action the events record
 * (`trx`), so the action and its entry commit or roll back together. Returns the indices.
 * Per log: one locked read of the head, one insert of the entries, the tiles they complete
 * (one insert per 256 entries; a tile wholly inside the append is hashed once, for both the tile
 * and the tree), one update of the head. The search index follows after the commit
 * (indexer.ts).
 */
export async function appendAudit(trx: Db, dbKind: 'sqlite' | 'postgres', events: AuditEvent[], options: { logId?: string } = {}): Promise<number[]> {
  const byLog = new Map<string, AuditEvent[]>();
  for (const e of events) {
    const id = options.logId ?? logIdFor(e.organisationId);
    const list = byLog.get(id);
    if (list) list.push(e);
    else byLog.set(id, [e]);
  }
  const indices: number[] = [];
  // Lock heads in one global order, so two transactions touching the same logs cannot deadlock.
  for (const [logId, logEvents] of [...byLog].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const head = await store.lockHead(trx, dbKind, logId);
    const range = RunningTree.fromRange(rangeOf(head));
    const leafHashes: Uint8Array[] = [];
    const rows = logEvents.map((event, i) => {
      const index = range.size + i;
      const leaf = encodeLeaf(logId, index, event);
      const leafHash = nativeLeafHash(leaf);
      leafHashes.push(leafHash);
      indices.push(index);
      return { log_id: logId, idx: index, leaf, leaf_hash: Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.byteLength) };
    });
    await store.insertEntries(trx, dbKind, rows);
    await appendToTree(trx, logId, range, leafHashes);
    await store.writeHead(trx, logId, range.size, JSON.stringify(range.hashes().map(toB64)));
  }
  return indices;
}
