import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.js';
import { consistencyProof, verifyConsistency } from './consistency.js';
import { emptyRoot, hashLeaf } from './hash.js';
import { readConsistencyProof, readInclusionProof } from './hash-reader.js';
import { inclusionProof, verifyInclusion } from './inclusion.js';
import { rootFromLeafHashes } from './root.js';

const leaves = [0, 1, 2, 3, 4].map((i) => hashLeaf(new Uint8Array([i])));
const root = rootFromLeafHashes(leaves);
const reader = { leafHashes: async (start: number, end: number) => leaves.slice(start, end) };

describe('generators refuse impossible arguments with MerkleTreeError', () => {
  it.each([
    [0, 0],
    [5, 5],
    [6, 5],
    [0, 6],
    [-1, 5],
    [1.5, 5],
    [Number.NaN, 5],
    [0, 2 ** 53],
  ])('inclusionProof(index %d, size %d)', async (index, size) => {
    expect(() => inclusionProof(leaves, index, size)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    if (size <= 5) {
      await expect(readInclusionProof(reader, index, size)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    }
  });

  it.each([
    [3, 2],
    [0, 3],
    [2, 6],
    [-1, 3],
    [1, Number.POSITIVE_INFINITY],
  ])('consistencyProof(%d, %d)', async (oldSize, newSize) => {
    expect(() => consistencyProof(leaves, oldSize, newSize)).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
    if (newSize <= 5) {
      await expect(readConsistencyProof(reader, oldSize, newSize)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    }
  });

  it('gives the empty path between equal sizes, the empty tree included', () => {
    expect(consistencyProof(leaves, 0, 0)).toEqual([]);
    expect(consistencyProof(leaves, 3, 3)).toEqual([]);
    expect(verifyConsistency(0, 0, [], emptyRoot(), emptyRoot())).toBe(true);
  });

  it('refuses leaf hashes that are not 32 bytes', () => {
    expect(() => rootFromLeafHashes([new Uint8Array(31)])).toThrow(expect.objectContaining({ code: 'MALFORMED_HASH' }));
    expect(() => CompactRange.empty().append(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_HASH' }),
    );
  });

  it('refuses a compact range whose hash count does not match its size', () => {
    expect(() => CompactRange.fromHashes(5, [root])).toThrow(expect.objectContaining({ code: 'MALFORMED_HASH' }));
    expect(() => CompactRange.fromHashes(-1, [])).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });
});

describe('verifiers answer false, never throw, on malformed input', () => {
  const proof = inclusionProof(leaves, 2, 5);
  it.each([
    ['a negative index', -1, 5],
    ['a fractional index', 1.5, 5],
    ['NaN as size', 2, Number.NaN],
    ['an index equal to the size', 5, 5],
    ['an unsafe size', 2, 2 ** 64],
  ])('inclusion with %s', (_what, index, size) => {
    expect(verifyInclusion(leaves[2] as Uint8Array, index, size, proof, root)).toBe(false);
  });

  it('inclusion with hashes of the wrong length or a proof that is not an array', () => {
    expect(verifyInclusion(new Uint8Array(0), 2, 5, proof, root)).toBe(false);
    expect(verifyInclusion(leaves[2] as Uint8Array, 2, 5, proof, root.subarray(1))).toBe(false);
    expect(verifyInclusion(leaves[2] as Uint8Array, 2, 5, [...proof.slice(0, -1), new Uint8Array(33)], root)).toBe(
      false,
    );
    expect(verifyInclusion(leaves[2] as Uint8Array, 2, 5, null as unknown as Uint8Array[], root)).toBe(false);
  });

  it('consistency with sizes out of order, from zero, or hashes of the wrong length', () => {
    const old = rootFromLeafHashes(leaves.slice(0, 3));
    const path = consistencyProof(leaves, 3, 5);
    expect(verifyConsistency(3, 5, path, old, root)).toBe(true);
    expect(verifyConsistency(5, 3, path, root, old)).toBe(false);
    expect(verifyConsistency(0, 5, [], emptyRoot(), root)).toBe(false);
    expect(verifyConsistency(3, 5, path, old.subarray(1), root)).toBe(false);
    expect(verifyConsistency(3, 5, [], old, root)).toBe(false);
    expect(verifyConsistency(0, 0, [], root, root)).toBe(false);
    expect(verifyConsistency(3, 5, undefined as unknown as Uint8Array[], old, root)).toBe(false);
  });
});
