import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.js';
import { consistencyProof, verifyConsistency } from './consistency.js';
import { hashLeaf } from './hash.js';
import type { HashReader } from './hash-reader.js';
import { readCompactRange, readConsistencyProof, readInclusionProof, readRoot } from './hash-reader.js';
import { inclusionProof, verifyInclusion } from './inclusion.js';
import { rootFromLeafHashes } from './root.js';

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

const random = seededRandom(9162);
const leafHashes = Array.from({ length: 300 }, (_, i) => hashLeaf(new TextEncoder().encode(`leaf ${i}`)));
const roots = Array.from({ length: 301 }, (_, n) => rootFromLeafHashes(leafHashes.slice(0, n)));
// Edges around powers of two, then random sizes; proofs for every index and old size of each.
const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 129, 300];
for (let i = 0; i < 5; i++) sizes.push(1 + random(300));

function flipBit(proof: readonly Uint8Array[]): Uint8Array[] {
  const copy = proof.map((hash) => hash.slice());
  const target = copy[random(copy.length)] as Uint8Array;
  const bit = random(256);
  target[bit >> 3] = (target[bit >> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

function countingReader(): HashReader & { leavesRead: number } {
  const reader = {
    leavesRead: 0,
    async leafHashes(start: number, end: number) {
      reader.leavesRead += end - start;
      return leafHashes.slice(start, end);
    },
  };
  return reader;
}

describe('Merkle proofs over random trees', () => {
  it.each(sizes)('every inclusion proof in a tree of %i verifies, and no altered one does', (size) => {
    const root = roots[size] as Uint8Array;
    for (let index = 0; index < size; index++) {
      const leaf = leafHashes[index] as Uint8Array;
      const proof = inclusionProof(leafHashes, index, size);
      expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
      if (proof.length > 0) {
        expect(verifyInclusion(leaf, index, size, flipBit(proof), root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);
      }
      expect(verifyInclusion(leaf, index, size, [...proof, root], root)).toBe(false);
      expect(verifyInclusion(leaf, size, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index + size, size, proof, root)).toBe(false);
      if (size > 1) {
        const other = (index + 1 + random(size - 1)) % size;
        expect(verifyInclusion(leaf, other, size, proof, root)).toBe(false);
        expect(verifyInclusion(leafHashes[other] as Uint8Array, index, size, proof, root)).toBe(false);
      }
    }
  });

  it.each(sizes)('every consistency proof to a tree of %i verifies, and no altered one does', (size) => {
    const root = roots[size] as Uint8Array;
    for (let oldSize = 1; oldSize <= size; oldSize++) {
      const oldRoot = roots[oldSize] as Uint8Array;
      const proof = consistencyProof(leafHashes, oldSize, size);
      expect(verifyConsistency(oldSize, size, proof, oldRoot, root)).toBe(true);
      if (proof.length > 0) {
        expect(verifyConsistency(oldSize, size, flipBit(proof), oldRoot, root)).toBe(false);
        expect(verifyConsistency(oldSize, size, proof.slice(1), oldRoot, root)).toBe(false);
        expect(verifyConsistency(oldSize, size, proof.slice(0, -1), oldRoot, root)).toBe(false);
      }
      expect(verifyConsistency(oldSize, size, [...proof, root], oldRoot, root)).toBe(false);
      if (oldSize < size) {
        expect(verifyConsistency(oldSize, size, proof, roots[oldSize + 1] as Uint8Array, root)).toBe(false);
        expect(verifyConsistency(oldSize + 1, size, proof, oldRoot, root)).toBe(false);
        expect(verifyConsistency(oldSize, size, proof, oldRoot, roots[size - 1] as Uint8Array)).toBe(false);
      }
    }
  });

  it('the compact range gives the same root as rootFromLeafHashes at every size', () => {
    let range = CompactRange.empty();
    expect(range.root()).toEqual(roots[0]);
    leafHashes.forEach((leaf, i) => {
      range = range.append(leaf);
      expect(range.size).toBe(i + 1);
      expect(range.root()).toEqual(roots[i + 1]);
      expect(CompactRange.fromHashes(range.size, range.hashes()).root()).toEqual(roots[i + 1]);
    });
  });

  it.each(sizes)('the hash reader agrees with the in-memory proofs for %i leaves', async (size) => {
    const cache = new Map<string, Uint8Array>();
    const options = { cache, batchLeaves: 1 + random(64) };
    expect(await readRoot(countingReader(), size, options)).toEqual(roots[size]);
    expect((await readCompactRange(countingReader(), size, options)).root()).toEqual(roots[size]);
    for (let i = 0; i < 8; i++) {
      const index = random(size);
      expect(await readInclusionProof(countingReader(), index, size, options)).toEqual(
        inclusionProof(leafHashes, index, size),
      );
      const oldSize = 1 + random(size);
      expect(await readConsistencyProof(countingReader(), oldSize, size, options)).toEqual(
        consistencyProof(leafHashes, oldSize, size),
      );
    }
  });
});

describe('HashReader memoisation', () => {
  it('reads each perfect subtree of 256 leaves once', async () => {
    const cache = new Map<string, Uint8Array>();
    const first = countingReader();
    await readInclusionProof(first, 299, 300, { cache });
    expect(first.leavesRead).toBe(300 - 1);
    const second = countingReader();
    expect(await readInclusionProof(second, 298, 300, { cache })).toEqual(inclusionProof(leafHashes, 298, 300));
    // The 256-leaf left subtree comes from the cache; only the right part is read again.
    expect(second.leavesRead).toBe(300 - 256 - 1);
  });

  it('refuses a reader that returns the wrong number of hashes', async () => {
    const short: HashReader = { leafHashes: async (start, end) => leafHashes.slice(start, end - 1) };
    await expect(readRoot(short, 5)).rejects.toMatchObject({ code: 'READER_MISMATCH' });
  });
});
