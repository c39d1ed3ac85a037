import type { NodeReader, TreeNode } from '@consilium/crypto/merkle';
import { nativeNodeHashInto, type RunningTree } from './native-hash.js';
import { ConsiliumError } from '../errors.js';
import type { Db } from '../db/database.js';
import type { AuditTileTable } from '../db/schema/audit.js';
import * as store from './store.js';

/**
 * The log's Merkle tree kept as tiles, in the shape of C2SP tlog-tiles (https://c2sp.org/tlog-tiles):
 * a tile at level L and index N holds the 256 node hashes at height 8L with indices
 * [256N, 256N + 256); its root is node (8L + 8, N), one hash of the tile above. Full tiles are
 * written in the transaction that completes them and never change. Beside its 256 hashes a tile
 * keeps the 254 interior nodes of its subtree (heights 8L + 1 to 8L + 7, computed anyway to get
 * its root; migration 019), so any node of the tree is one hash of one tile: a proof reads one
 * tile per 8 levels (most of them cached) and hashes nothing but the right edge of the tree.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
const HASH = 32;
/** Interior nodes of a tile: 128 at height 1, 64 at height 2, ..., 2 at height 7. */
const INTERIOR = TILE_WIDTH - 2;
/** Where the nodes of height r (1 to 7 within the tile) start among the interior nodes, in hashes. */
const heightStart = (r: number) => TILE_WIDTH - 2 ** (TILE_HEIGHT + 1 - r);

/** A tile's first `count` hashes side by side, with the complete interior nodes above them. */
interface TileRow {
  count: number;
  hashes: Buffer;
  nodes: Buffer;
}

const asBuffer = (v: Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/**
 * RFC 9162 §2.1.1 interior nodes over the first `count` hashes of a tile row: every complete node
 * at heights 1 to 7 in the layout above (incomplete ones stay zero and are never read), and the
 * tile's root (height 8) when the row is full. 255 node hashes for a full tile.
 */
function tileNodes(hashes: Buffer, count: number): { nodes: Buffer; root: Buffer | null } {
  const nodes = Buffer.alloc(INTERIOR * HASH);
  let below = hashes;
  let belowStart = 0;
  let complete = count;
  for (let r = 1; r < TILE_HEIGHT; r++) {
    complete = Math.floor(complete / 2);
    const at = heightStart(r);
    for (let j = 0; j < complete; j++) nativeNodeHashInto(below, (belowStart + 2 * j) * HASH, nodes, (at + j) * HASH);
    below = nodes;
    belowStart = at;
  }
  if (count < TILE_WIDTH) return { nodes, root: null };
  const root = Buffer.alloc(HASH);
  nativeNodeHashInto(nodes, heightStart(TILE_HEIGHT - 1) * HASH, root, 0);
  return { nodes, root };
}

/** The full tile row of `hashes` (256 of them, side by side): its table row and its root. */
function fullTile(logId: string, level: number, idx: number, hashes: Buffer): { row: AuditTileTable; root: Buffer } {
  if (hashes.length !== TILE_WIDTH * HASH) throw new Error(`a tile holds ${TILE_WIDTH} hashes`);
  const { nodes, root } = tileNodes(hashes, TILE_WIDTH);
  return { row: { log_id: logId, level, idx, hashes, root: root!, nodes }, root: root! };
}

/**
 * Adds leaves [tree.size, tree.size + leafHashes.length) to the running tree and writes the tiles
 * they complete, at every level, inside the append's transaction (`db`). A tile wholly inside
 * this append is hashed once: its root enters the tree as one node (RunningTree.appendSubtree),
 * so its interior nodes are not computed twice. Leaves of a level-0 tile appended by earlier
 * transactions are read back (once per 256 appends); tiles above take the roots of the tiles
 * below, from this append or from the table.
 */
export async function appendToTree(db: Db, logId: string, tree: RunningTree, leafHashes: readonly Uint8Array[]): Promise<void> {
  const oldSize = tree.size;
  const rows: AuditTileTable[] = [];
  // The roots written here, by level then tile index, for the level above.
  let completed = new Map<number, Uint8Array>();
  let i = 0;
  while (i < leafHashes.length) {
    const n = Math.floor(tree.size / TILE_WIDTH);
    const start = n * TILE_WIDTH;
    if (tree.size === start && leafHashes.length - i >= TILE_WIDTH) {
      const tile = fullTile(logId, 0, n, Buffer.concat(leafHashes.slice(i, i + TILE_WIDTH)));
      tree.appendSubtree(tile.root, TILE_HEIGHT);
      rows.push(tile.row);
      completed.set(n, tile.root);
      i += TILE_WIDTH;
      continue;
    }
    const stop = Math.min(leafHashes.length, i + (start + TILE_WIDTH - tree.size));
    for (; i < stop; i++) tree.append(leafHashes[i]!);
    if (tree.size !== start + TILE_WIDTH) continue;
    const parts: Uint8Array[] = [];
    if (start < oldSize) {
      const stored = await store.leafHashRange(db, logId, start, oldSize);
      if (stored.length !== oldSize - start) throw new ConsiliumError('INTERNAL', `audit log ${logId} is missing entries in [${start}, ${oldSize})`);
      for (const r of stored) parts.push(r.leaf_hash);
    }
    for (let k = Math.max(start, oldSize); k < start + TILE_WIDTH; k++) parts.push(leafHashes[k - oldSize]!);
    const tile = fullTile(logId, 0, n, Buffer.concat(parts));
    rows.push(tile.row);
    completed.set(n, tile.root);
  }
  for (let level = 1; completed.size > 0; level++) {
    const above = new Map<number, Uint8Array>();
    for (const below of completed.keys()) {
      if ((below + 1) % TILE_WIDTH !== 0) continue;
      const n = (below + 1) / TILE_WIDTH - 1;
      const tile = fullTile(logId, level, n, Buffer.concat(await rowOfRoots(db, logId, level - 1, n, completed)));
      rows.push(tile.row);
      above.set(n, tile.root);
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
  return tileNodes(Buffer.concat(await rowHashes(db, logId, level, n, TILE_WIDTH)), TILE_WIDTH).root!;
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
 * Rows of tiles, by log. Full tiles never change; a partial row at the right edge of the tree
 * holds hashes of complete nodes only, which never change either, so a cached prefix stays right
 * and is replaced when a longer one is needed. Bounded, least recently used out first.
 */
class TileCache {
  private readonly rows = new Map<string, TileRow>();
  constructor(private readonly limit: number) {}
  get(key: string, count: number): TileRow | undefined {
    const row = this.rows.get(key);
    if (!row || row.count < count) return undefined;
    this.rows.delete(key);
    this.rows.set(key, row);
    return row;
  }
  set(key: string, row: TileRow): void {
    const old = this.rows.get(key);
    if (old && old.count >= row.count) return;
    this.rows.delete(key);
    this.rows.set(key, row);
    while (this.rows.size > this.limit) this.rows.delete(this.rows.keys().next().value!);
  }
}

/** About 16 KiB per full tile (hashes and interior nodes): 2,048 tiles is 32 MiB per database handle. */
const CACHE_TILES = 2048;
const caches = new WeakMap<Db, TileCache>();
function cacheFor(db: Db): TileCache {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new TileCache(CACHE_TILES)));
  return cache;
}

/** Node j of height r within a tile row: one of its hashes (r = 0) or of its interior nodes. */
function nodeOf(row: TileRow, r: number, j: number): Uint8Array {
  const at = (r === 0 ? j : heightStart(r) + j) * HASH;
  return new Uint8Array((r === 0 ? row.hashes : row.nodes).subarray(at, at + HASH));
}

/**
 * Node hashes of one log from its tiles: the NodeReader that proofs are read through. Nodes asked
 * for must be complete in the log (below a size the log has reached). Reads outside transactions.
 */
export function tileReader(db: Db, logId: string): NodeReader {
  const cache = cacheFor(db);
  const keyOf = (level: number, n: number) => `${logId}\u0000${level}/${n}`;
  return {
    async nodeHashes(asked: readonly TreeNode[]): Promise<Uint8Array[]> {
      // Each node is node j of height r within tile (level, n), and needs that row's first `count` hashes.
      const places = asked.map(({ height, index }) => {
        const level = Math.floor(height / TILE_HEIGHT);
        const r = height - level * TILE_HEIGHT;
        const perTile = TILE_WIDTH >> r;
        const n = Math.floor(index / perTile);
        const j = index - n * perTile;
        return { key: keyOf(level, n), level, n, r, j, count: (j + 1) << r };
      });
      const need = new Map<string, { level: number; n: number; count: number }>();
      for (const p of places) {
        const known = need.get(p.key);
        if (!known || known.count < p.count) need.set(p.key, { level: p.level, n: p.n, count: p.count });
      }
      const rows = new Map<string, TileRow>();
      const missing = new Map<number, { n: number; count: number }[]>();
      for (const [key, want] of need) {
        const row = cache.get(key, want.count);
        if (row) rows.set(key, row);
        else missing.set(want.level, [...(missing.get(want.level) ?? []), want]);
      }
      for (const [level, wants] of missing) {
        const stored = new Map((await store.tilesAt(db, logId, level, wants.map((w) => w.n))).map((t) => [Number(t.idx), t]));
        for (const want of wants) {
          const tile = stored.get(want.n);
          let row: TileRow;
          if (tile) {
            const hashes = asBuffer(tile.hashes);
            // Tiles written before migration 019 have no interior nodes: computed here, once per cache fill.
            row = { count: TILE_WIDTH, hashes, nodes: tile.nodes ? asBuffer(tile.nodes) : tileNodes(hashes, TILE_WIDTH).nodes };
          } else {
            // The right edge of the tree: a row not full yet, from what is below it.
            const hashes = Buffer.concat(await rowHashes(db, logId, level, want.n, want.count));
            row = { count: want.count, hashes, nodes: tileNodes(hashes, want.count).nodes };
          }
          cache.set(keyOf(level, want.n), row);
          rows.set(keyOf(level, want.n), row);
        }
      }
      return places.map((p) => nodeOf(rows.get(p.key)!, p.r, p.j));
    },
  };
}
