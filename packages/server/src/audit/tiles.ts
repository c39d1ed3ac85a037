import type { NodeReader, TreeNode } from '@consilium/crypto';
import { nativeNodeHash } from './native-hash.js';
import { ConsiliumError } from '../errors.js';
import type { Db } from '../db/database.js';
import type { AuditTileTable } from '../db/schema/audit.js';
import * as store from './store.js';

/**
 * The log's Merkle tree kept as tiles, in the shape of C2SP tlog-tiles (https://c2sp.org/tlog-tiles):
 * a tile at level L and index N holds the 256 node hashes at height 8L with indices
 * [256N, 256N + 256); its root is node (8L + 8, N), one hash of the tile above. Full tiles are
 * written in the transaction that completes them and never change. Any node of the tree is then
 * the root of at most 128 consecutive hashes of one tile, so a proof reads one tile per 8 levels
 * (most of them cached) instead of rehashing the leaves below each sibling.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
const HASH = 32;

/**
 * RFC 9162 §2.1.1 MTH of the perfect subtree of `width` (a power of two) hashes from `start`: every
 * node a tile serves is one. Level by level, without the copies of the general subtreeRoot.
 */
function perfectRoot(hashes: readonly Uint8Array[], start: number, width: number): Uint8Array {
  if (width === 1) return hashes[start]!;
  const level: Uint8Array[] = new Array<Uint8Array>(width / 2);
  for (let i = 0; i < width / 2; i++) level[i] = nativeNodeHash(hashes[start + 2 * i]!, hashes[start + 2 * i + 1]!);
  for (let n = width / 2; n > 1; n /= 2) for (let i = 0; i < n / 2; i++) level[i] = nativeNodeHash(level[2 * i]!, level[2 * i + 1]!);
  return level[0]!;
}

function packHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH);
  hashes.forEach((h, i) => out.set(h, i * HASH));
  return out;
}

/** Views into the tile's bytes (no copy: 256 small allocations per tile read were garbage); read-only. */
function unpackHashes(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + HASH <= bytes.length; at += HASH) out.push(bytes.subarray(at, at + HASH));
  return out;
}

/**
 * Writes the tiles that leaves [oldSize, oldSize + newLeafHashes.length) complete, at every level,
 * inside the append's transaction (`db`). Leaves of a level-0 tile appended by earlier
 * transactions are read back (once per 256 appends); tiles above take the roots of the tiles
 * below, from this append or from the table.
 */
export async function writeCompletedTiles(db: Db, logId: string, oldSize: number, newLeafHashes: readonly Uint8Array[]): Promise<void> {
  const newSize = oldSize + newLeafHashes.length;
  const rows: AuditTileTable[] = [];
  // The roots written here, by level then tile index, for the level above.
  let completed = new Map<number, Uint8Array>();
  for (let n = Math.floor(oldSize / TILE_WIDTH); (n + 1) * TILE_WIDTH <= newSize; n++) {
    const start = n * TILE_WIDTH;
    const hashes: Uint8Array[] = [];
    if (start < oldSize) {
      const stored = await store.leafHashRange(db, logId, start, oldSize);
      if (stored.length !== oldSize - start) throw new ConsiliumError('INTERNAL', `audit log ${logId} is missing entries in [${start}, ${oldSize})`);
      for (const r of stored) hashes.push(toBytes(r.leaf_hash));
    }
    for (let i = Math.max(start, oldSize); i < start + TILE_WIDTH; i++) hashes.push(newLeafHashes[i - oldSize]!);
    const root = perfectRoot(hashes, 0, TILE_WIDTH);
    rows.push({ log_id: logId, level: 0, idx: n, hashes: packHashes(hashes), root });
    completed.set(n, root);
  }
  for (let level = 1; completed.size > 0; level++) {
    const above = new Map<number, Uint8Array>();
    for (const below of completed.keys()) {
      if ((below + 1) % TILE_WIDTH !== 0) continue;
      const n = (below + 1) / TILE_WIDTH - 1;
      const roots = await rowOfRoots(db, logId, level - 1, n, completed);
      const root = perfectRoot(roots, 0, TILE_WIDTH);
      rows.push({ log_id: logId, level, idx: n, hashes: packHashes(roots), root });
      above.set(n, root);
    }
    completed = above;
  }
  await store.insertTiles(db, rows);
}

/** The 256 roots of tiles (level, 256n .. 256n + 255): from this append, or stored. */
async function rowOfRoots(db: Db, logId: string, level: number, n: number, fresh: Map<number, Uint8Array>): Promise<Uint8Array[]> {
  const start = n * TILE_WIDTH;
  const stored = new Map((await store.tileRoots(db, logId, level, start, start + TILE_WIDTH)).map((r) => [Number(r.idx), toBytes(r.root)]));
  const roots: Uint8Array[] = [];
  for (let i = start; i < start + TILE_WIDTH; i++) {
    const root = fresh.get(i) ?? stored.get(i) ?? (await computeTileRoot(db, logId, level, i));
    roots.push(root);
  }
  return roots;
}

/** A tile's root when the tile is not stored (a log that grew before tiles existed): from below. */
async function computeTileRoot(db: Db, logId: string, level: number, n: number): Promise<Uint8Array> {
  const hashes = await rowHashes(db, logId, level, n, TILE_WIDTH);
  return perfectRoot(hashes, 0, TILE_WIDTH);
}

/**
 * The first `count` hashes of tile (level, n), computed from what is stored: the leaf hashes of
 * the entries at level 0, the roots of the tiles below otherwise.
 */
async function rowHashes(db: Db, logId: string, level: number, n: number, count: number): Promise<Uint8Array[]> {
  const start = n * TILE_WIDTH;
  if (level === 0) {
    const rows = await store.leafHashRange(db, logId, start, start + count);
    if (rows.length !== count) throw new ConsiliumError('INTERNAL', `audit log ${logId} is missing entries in [${start}, ${start + count})`);
    return rows.map((r) => toBytes(r.leaf_hash));
  }
  const stored = new Map((await store.tileRoots(db, logId, level - 1, start, start + count)).map((r) => [Number(r.idx), toBytes(r.root)]));
  const out: Uint8Array[] = [];
  for (let i = start; i < start + count; i++) out.push(stored.get(i) ?? (await computeTileRoot(db, logId, level - 1, i)));
  return out;
}

/** better-sqlite3 returns Buffers, pg Buffers too: plain Uint8Array copies. */
function toBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/**
 * Hashes of tiles, by log. Full tiles never change; a partial row at the right edge of the tree
 * holds hashes of complete nodes only, which never change either, so a cached prefix stays right
 * and is extended when a longer one is needed. Bounded, least recently used out first.
 */
class TileCache {
  private readonly rows = new Map<string, Uint8Array[]>();
  constructor(private readonly limit: number) {}
  get(key: string, count: number): Uint8Array[] | undefined {
    const row = this.rows.get(key);
    if (!row || row.length < count) return undefined;
    this.rows.delete(key);
    this.rows.set(key, row);
    return row;
  }
  set(key: string, row: Uint8Array[]): void {
    const old = this.rows.get(key);
    if (old && old.length >= row.length) return;
    this.rows.delete(key);
    this.rows.set(key, row);
    while (this.rows.size > this.limit) this.rows.delete(this.rows.keys().next().value!);
  }
}

/** About 8 KiB per full tile: 2,048 tiles is 16 MiB per database handle. */
const CACHE_TILES = 2048;
/**
 * Nodes computed from tiles (a node of height 8L + r is r levels of hashing over one tile). The
 * upper levels serve every proof, so their nodes are kept: 65,536 hashes, about 10 MiB.
 */
const CACHE_NODES = 65_536;
const caches = new WeakMap<Db, { tiles: TileCache; nodes: Map<string, Uint8Array> }>();
function cacheFor(db: Db) {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = { tiles: new TileCache(CACHE_TILES), nodes: new Map() }));
  return cache;
}

/**
 * Node hashes of one log from its tiles: the NodeReader that proofs are read through. Nodes asked
 * for must be complete in the log (below a size the log has reached). Reads outside transactions.
 */
export function tileReader(db: Db, logId: string): NodeReader {
  const { tiles: cache, nodes: nodeCache } = cacheFor(db);
  const keyOf = (level: number, n: number) => `${logId}\u0000${level}/${n}`;
  const nodeKey = (node: TreeNode) => `${logId}\u0000${node.height}:${node.index}`;
  return {
    async nodeHashes(asked: readonly TreeNode[]): Promise<Uint8Array[]> {
      const known = asked.map((node) => nodeCache.get(nodeKey(node)));
      const nodes = asked.filter((_, i) => known[i] === undefined);
      // Which prefix of which tile each node needs.
      const places = nodes.map(({ height, index }) => {
        const level = Math.floor(height / TILE_HEIGHT);
        const width = 2 ** (height - level * TILE_HEIGHT);
        const first = index * width;
        const n = Math.floor(first / TILE_WIDTH);
        return { level, n, offset: first - n * TILE_WIDTH, width };
      });
      const need = new Map<string, { level: number; n: number; count: number }>();
      for (const p of places) {
        const key = keyOf(p.level, p.n);
        const count = p.offset + p.width;
        const known = need.get(key);
        if (!known || known.count < count) need.set(key, { level: p.level, n: p.n, count });
      }
      const rows = new Map<string, Uint8Array[]>();
      const missing = new Map<number, { n: number; count: number }[]>();
      for (const [key, want] of need) {
        const row = cache.get(key, want.count);
        if (row) rows.set(key, row);
        else missing.set(want.level, [...(missing.get(want.level) ?? []), want]);
      }
      for (const [level, wants] of missing) {
        const full = new Map((await store.tilesAt(db, logId, level, wants.map((w) => w.n))).map((t) => [Number(t.idx), unpackHashes(t.hashes)]));
        for (const want of wants) {
          const key = keyOf(level, want.n);
          const row = full.get(want.n) ?? (await rowHashes(db, logId, level, want.n, want.count));
          cache.set(key, row);
          rows.set(key, row);
        }
      }
      const computed = places.map((p, i) => {
        const row = rows.get(keyOf(p.level, p.n))!;
        if (p.width === 1) return row[p.offset]!.slice();
        const hash = perfectRoot(row, p.offset, p.width);
        // Nodes at the upper levels are shared by many proofs; leaf-level ones mostly are not.
        if (p.level > 0 || p.width >= 64) {
          if (nodeCache.size >= CACHE_NODES) nodeCache.delete(nodeCache.keys().next().value!);
          nodeCache.set(nodeKey(nodes[i]!), hash);
        }
        return hash;
      });
      let next = 0;
      return known.map((hash) => (hash ?? computed[next++]!).slice());
    },
  };
}
