import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consistencyProof } from './consistency.js';
import { hashLeaf, useSha256 } from './hash.js';
import { inclusionProof } from './inclusion.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import { rangeNodes, readConsistencyProofFromNodes, readInclusionProofFromNodes, type NodeReader, type TreeNode } from './node-reader.js';
import { subtreeRoot } from './root.js';

const leafHashes = Array.from({ length: 150 }, (_, i) => hashLeaf(new TextEncoder().encode(`leaf ${i}`)));

/** Node hashes computed from the leaves, counting calls and refusing nodes beyond `size`. */
function memoryReader(size: number): NodeReader & { calls: number; asked: TreeNode[] } {
  const reader = {
    calls: 0,
    asked: [] as TreeNode[],
    async nodeHashes(nodes: readonly TreeNode[]) {
      reader.calls++;
      reader.asked.push(...nodes);
      return nodes.map(({ height, index }) => {
        const start = index * 2 ** height;
        const end = start + 2 ** height;
        if (end > size) throw new Error(`node ${height}/${index} is not complete in a tree of ${size}`);
        return subtreeRoot(leafHashes, { start, end });
      });
    },
  };
  return reader;
}

describe('proofs from stored nodes', () => {
  it('rangeNodes cuts a range into aligned perfect subtrees along the RFC 9162 split', () => {
    expect(rangeNodes({ start: 0, end: 8 })).toEqual([{ height: 3, index: 0 }]);
    expect(rangeNodes({ start: 8, end: 13 })).toEqual([
      { height: 2, index: 2 },
      { height: 0, index: 12 },
    ]);
    expect(rangeNodes({ start: 0, end: 7 })).toEqual([
      { height: 2, index: 0 },
      { height: 1, index: 2 },
      { height: 0, index: 6 },
    ]);
    // Not aligned: MTH(D[3:6]) splits at 2 ([3, 5) then [5, 6)), and [3, 5) is no node, so leaves.
    expect(rangeNodes({ start: 3, end: 6 })).toEqual([
      { height: 0, index: 3 },
      { height: 0, index: 4 },
      { height: 0, index: 5 },
    ]);
    expect(rangeNodes({ start: 5, end: 5 })).toEqual([]);
  });

  it('every inclusion and consistency proof equals the one computed from the leaves, read in one call', async () => {
    for (let size = 1; size <= leafHashes.length; size += size < 20 ? 1 : 7) {
      for (let index = 0; index < size; index++) {
        const reader = memoryReader(size);
        expect(await readInclusionProofFromNodes(reader, index, size)).toEqual(inclusionProof(leafHashes, index, size));
        expect(reader.calls).toBeLessThanOrEqual(1);
      }
      for (let old = 1; old <= size; old++) {
        const reader = memoryReader(size);
        expect(await readConsistencyProofFromNodes(reader, old, size)).toEqual(consistencyProof(leafHashes, old, size));
        expect(reader.calls).toBeLessThanOrEqual(1);
      }
    }
  });

  it('a proof reads O(log n) nodes, not the leaves under them', async () => {
    const reader = memoryReader(150);
    await readInclusionProofFromNodes(reader, 17, 150);
    expect(reader.asked.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(150)));
  });

  it('refuses arguments out of range, and a reader that answers the wrong number of hashes', async () => {
    await expect(readInclusionProofFromNodes(memoryReader(5), 5, 5)).rejects.toBeInstanceOf(MerkleTreeError);
    await expect(readConsistencyProofFromNodes(memoryReader(5), 0, 5)).rejects.toBeInstanceOf(MerkleTreeError);
    const short: NodeReader = { nodeHashes: async (nodes) => nodes.slice(1).map(() => new Uint8Array(32)) };
    await expect(readInclusionProofFromNodes(short, 3, 9)).rejects.toMatchObject({ code: 'READER_MISMATCH' });
    const malformed: NodeReader = { nodeHashes: async (nodes) => nodes.map(() => new Uint8Array(31)) };
    await expect(readInclusionProofFromNodes(malformed, 3, 9)).rejects.toMatchObject({ code: 'MALFORMED_HASH' });
  });
});

describe('useSha256', () => {
  it('refuses a function that is not SHA-256, and hashes the same with node:crypto as with @noble/hashes', () => {
    const before = hashLeaf(new TextEncoder().encode('entry'));
    expect(() => useSha256((data) => createHash('sha512').update(data).digest().subarray(0, 32))).toThrow(MerkleTreeError);
    expect(hashLeaf(new TextEncoder().encode('entry'))).toEqual(before);
    useSha256((data) => new Uint8Array(createHash('sha256').update(data).digest()));
    expect(hashLeaf(new TextEncoder().encode('entry'))).toEqual(before);
    expect(inclusionProof(leafHashes, 7, 100)).toEqual(inclusionProof(leafHashes, 7, 100));
  });
});
