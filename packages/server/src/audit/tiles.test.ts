import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistencyProof as expectedConsistency, hashLeaf, inclusionProof as expectedInclusion, subtreeRoot } from '@consilium/crypto/merkle';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { b64, fromB64, syntheticEvent } from '../test-support/audit.js';
import { createOrganisation } from '../orgs/service.js';
import { appendAudit } from './log.js';
import { nativeLeafHash, nativeSha256, RunningTree } from './native-hash.js';
import { rangeOf } from './log.js';
import { consistencyProof, inclusionProof } from './service.js';
import { TILE_WIDTH } from './tiles.js';

// The stored tiles (C2SP tlog-tiles shape, height 8) against the leaf hashes they summarise: a log
// past 65,536 entries has full tiles at levels 0 and 1, and every proof read from them equals the
// proof computed from all leaf hashes in memory.

const ENTRIES = TILE_WIDTH * TILE_WIDTH + 1234;

/** mulberry32: a seeded generator, so a failing case can be replayed. */
function seededRandom(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

let server: TestServer;
let logId: string;
const leaves: Uint8Array[] = [];
const random = seededRandom(6962);

async function append(count: number) {
  const at = server.clock.now().toISOString();
  const events = Array.from({ length: count }, (_, i) => syntheticEvent(logId, leaves.length + i, at));
  const indices = await server.deps.db.transaction().execute((trx) => appendAudit(trx, server.deps.dbKind, events));
  expect(indices[0]).toBe(leaves.length);
  const rows = await server.deps.db.selectFrom('audit_entry').select(['leaf_hash']).where('log_id', '=', logId).where('idx', '>=', leaves.length).orderBy('idx').execute();
  for (const r of rows) leaves.push(fromB64(r.leaf_hash));
}

async function tiles(level: number) {
  const rows = await server.deps.db.selectFrom('audit_tile').selectAll().where('log_id', '=', logId).where('level', '=', level).orderBy('idx').execute();
  return rows.map((r) => ({ idx: Number(r.idx), hashes: new Uint8Array(r.hashes), root: new Uint8Array(r.root), nodes: r.nodes && new Uint8Array(r.nodes) }));
}

function expectProofsMatch(index: number, size: number, proof: { leafHash: string; proof: string[] }) {
  expect(proof.leafHash).toBe(b64(leaves[index]!));
  expect(proof.proof).toEqual(expectedInclusion(leaves, index, size).map(b64));
}

beforeAll(async () => {
  server = await startTestServer();
  logId = (await createOrganisation(server.deps, 'Tile Hospital')).id;
  leaves.push(...(await server.deps.db.selectFrom('audit_entry').select('leaf_hash').where('log_id', '=', logId).orderBy('idx').execute()).map((r) => fromB64(r.leaf_hash)));
  // Single-event transactions across the first tile boundary, then batches of random sizes.
  while (leaves.length < TILE_WIDTH + 5) await append(1);
  while (leaves.length < ENTRIES) await append(Math.min(ENTRIES - leaves.length, 1 + random(6000)));
}, 240_000);
afterAll(() => server?.stop());

describe('tiles', () => {
  it('node:crypto hashing is the RFC 9162 leaf hash', () => {
    for (const leaf of ['', '{"v":1}', 'ünïcödé ✓', 'x'.repeat(5000)]) {
      expect(nativeLeafHash(leaf)).toEqual(hashLeaf(new TextEncoder().encode(leaf)));
    }
    expect(Buffer.from(nativeSha256(new Uint8Array(0))).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('every full tile is written once, at levels 0 and 1, and holds what is below it', async () => {
    const level0 = await tiles(0);
    const level1 = await tiles(1);
    expect(level0.map((t) => t.idx)).toEqual(Array.from({ length: Math.floor(ENTRIES / TILE_WIDTH) }, (_, i) => i));
    expect(level1.map((t) => t.idx)).toEqual([0]);
    expect(await tiles(2)).toEqual([]);
    for (const t of level0) {
      const below = leaves.slice(t.idx * TILE_WIDTH, (t.idx + 1) * TILE_WIDTH);
      expect(Buffer.from(t.hashes).equals(Buffer.concat(below))).toBe(true);
      expect(t.root).toEqual(subtreeRoot(below, { start: 0, end: TILE_WIDTH }));
    }
    expect(Buffer.from(level1[0]!.hashes).equals(Buffer.concat(level0.slice(0, TILE_WIDTH).map((t) => t.root)))).toBe(true);
    expect(level1[0]!.root).toEqual(subtreeRoot(leaves, { start: 0, end: TILE_WIDTH * TILE_WIDTH }));
  });

  it('each tile keeps the interior nodes of its subtree, height by height, lowest first', async () => {
    const level0 = await tiles(0);
    // Tiles written by single-event appends, by a batch that began mid-tile and by whole tiles in a batch.
    for (const t of [level0[0]!, level0[1]!, level0[level0.length - 1]!, level0[random(level0.length)]!]) {
      const below = leaves.slice(t.idx * TILE_WIDTH, (t.idx + 1) * TILE_WIDTH);
      const expected: Uint8Array[] = [];
      for (let r = 1; r < 8; r++) {
        const width = 2 ** r;
        for (let j = 0; j < TILE_WIDTH / width; j++) expected.push(subtreeRoot(below, { start: j * width, end: (j + 1) * width }));
      }
      expect(expected).toHaveLength(254);
      expect(Buffer.from(t.nodes!).equals(Buffer.concat(expected))).toBe(true);
    }
    const level1 = await tiles(1);
    const roots = level0.slice(0, TILE_WIDTH).map((t) => t.root);
    expect(level1[0]!.nodes!.subarray(0, 32)).toEqual(subtreeRoot(roots, { start: 0, end: 2 }));
    expect(level1[0]!.nodes!.subarray(253 * 32)).toEqual(subtreeRoot(roots, { start: 128, end: 256 }));
  });

  it('the log head, advanced by whole tiles at once, is the tree of every leaf', async () => {
    const head = await server.deps.db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId).executeTakeFirstOrThrow();
    expect(Number(head.size)).toBe(leaves.length);
    expect(rangeOf(head).root()).toEqual(subtreeRoot(leaves, { start: 0, end: leaves.length }));
    // appendSubtree: the same roots as the leaves one by one, and only where the subtree is a node.
    const one = RunningTree.empty();
    const whole = RunningTree.empty();
    for (const leaf of leaves.slice(0, 3 * TILE_WIDTH)) one.append(leaf);
    for (let n = 0; n < 3; n++) whole.appendSubtree(subtreeRoot(leaves, { start: n * TILE_WIDTH, end: (n + 1) * TILE_WIDTH }), 8);
    expect(whole.size).toBe(one.size);
    expect(whole.hashes()).toEqual(one.hashes());
    whole.append(leaves[3 * TILE_WIDTH]!);
    expect(() => whole.appendSubtree(leaves[0]!, 8)).toThrow(/cannot start at/);
  });

  it('inclusion and consistency proofs from tiles equal those computed from every leaf', { timeout: 120_000 }, async () => {
    const sizes = [1, 2, 255, 256, 257, TILE_WIDTH * TILE_WIDTH - 1, TILE_WIDTH * TILE_WIDTH, TILE_WIDTH * TILE_WIDTH + 1, ENTRIES];
    for (let i = 0; i < 2; i++) sizes.push(1 + random(ENTRIES));
    for (const size of sizes) {
      for (const index of [0, size - 1, random(size)]) expectProofsMatch(index, size, await inclusionProof(server.deps, logId, index, size));
      for (const from of [size, 1 + random(size)]) {
        expect((await consistencyProof(server.deps, logId, from, size)).proof).toEqual(expectedConsistency(leaves, from, size).map(b64));
      }
    }
  });

  it('tiles written before their interior nodes were kept (migration 019) still prove', async () => {
    await server.deps.db.updateTable('audit_tile').set({ nodes: null }).where('log_id', '=', logId).execute();
    const again = await startTestServer({}, { storageOf: server });
    try {
      const size = leaves.length;
      for (const index of [0, 257, 70_000 % size, random(size), size - 1]) expectProofsMatch(index, size, await inclusionProof(again.deps, logId, index, size));
      for (const from of [1, 300, 65_536, random(size)]) expect((await consistencyProof(again.deps, logId, from, size)).proof).toEqual(expectedConsistency(leaves, from, size).map(b64));
    } finally {
      await again.stop();
    }
  });

  it('a log whose tiles are missing (grown before tiles existed) still proves, and appending writes the tiles above', async () => {
    await server.deps.db.deleteFrom('audit_tile').where('log_id', '=', logId).execute();
    // A second server on the same storage: nothing cached from before.
    const again = await startTestServer({}, { storageOf: server });
    try {
      for (const index of [3, 70_000 % ENTRIES, ENTRIES - 1]) expectProofsMatch(index, ENTRIES, await inclusionProof(again.deps, logId, index, ENTRIES));
      expect((await consistencyProof(again.deps, logId, 1000, ENTRIES)).proof).toEqual(expectedConsistency(leaves, 1000, ENTRIES).map(b64));
    } finally {
      await again.stop();
    }
    // The next tile to complete is written from the leaves; the roots below it are recomputed.
    await append(TILE_WIDTH - (leaves.length % TILE_WIDTH));
    const level0 = await tiles(0);
    expect(level0.map((t) => t.idx)).toEqual([leaves.length / TILE_WIDTH - 1]);
    expect(level0[0]!.root).toEqual(subtreeRoot(leaves, { start: leaves.length - TILE_WIDTH, end: leaves.length }));
    const size = leaves.length;
    expectProofsMatch(size - 1, size, await inclusionProof(server.deps, logId, size - 1, size));
  });
});
