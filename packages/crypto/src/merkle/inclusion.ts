import { assertHash, hashChildren, hashesEqual, isHash } from './hash.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import { subtreeRoot } from './root.js';
import { assertTreeIndex, inclusionRanges, isTreeIndex } from './subtree-range.js';

/**
 * RFC 9162 §2.1.3.1: the inclusion path of leaf `index` in the tree made of the first `size`
 * leaf hashes, leaf side first. Throws `MerkleTreeError` unless 0 <= index < size <= leaves.
 */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number,
): Uint8Array[] {
  assertInclusionArguments(index, size, leafHashes.length);
  const leaves = leafHashes.slice(0, size);
  leaves.forEach((hash, i) => assertHash(hash, `leaf hash ${i}`));
  return inclusionRanges(index, size).map((range) => subtreeRoot(leaves, range));
}

export function assertInclusionArguments(index: number, size: number, available: number): void {
  assertTreeIndex(index, 'index');
  assertTreeIndex(size, 'size');
  if (index >= size) throw new MerkleTreeError('OUT_OF_RANGE', `index ${index} >= size ${size}`);
  if (size > available) {
    throw new MerkleTreeError('OUT_OF_RANGE', `size ${size} > ${available} leaves`);
  }
}

/**
 * RFC 9162 §2.1.3.2: whether `proof` shows that `leafHash` is leaf `index` of the tree of
 * `size` leaves whose root is `root`. Answers false, never throws, for any malformed input:
 * an index not below the size, a hash that is not 32 bytes, a path too short or too long.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isTreeIndex(index) || !isTreeIndex(size) || index >= size) return false;
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) {
    return false;
  }
  // Step 2: fn = leaf_index, sn = tree_size - 1; step 3: r = hash.
  // Division, not >>, because bitwise operators would truncate sizes to 32 bits.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 5: sn must be 0 (the path was long enough) and r the expected root.
  return sn === 0 && hashesEqual(r, root);
}
