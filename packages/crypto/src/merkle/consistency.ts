import { assertHash, emptyRoot, hashChildren, hashesEqual, isHash } from './hash.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import { subtreeRoot } from './root.js';
import { assertTreeIndex, consistencyRanges, isPowerOfTwo, isTreeIndex } from './subtree-range.js';

/**
 * RFC 9162 §2.1.4.1: the consistency path from the tree of the first `oldSize` leaf hashes
 * to the tree of the first `newSize`. RFC 9162 defines it for 0 < oldSize < newSize; equal
 * sizes give the empty path. An empty old tree proves nothing and the verifier refuses it,
 * so asking for one (0 = oldSize < newSize) throws, as do sizes out of order or beyond the leaves.
 */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  oldSize: number,
  newSize: number,
): Uint8Array[] {
  assertConsistencyArguments(oldSize, newSize, leafHashes.length);
  const leaves = leafHashes.slice(0, newSize);
  leaves.forEach((hash, i) => assertHash(hash, `leaf hash ${i}`));
  return consistencyRanges(oldSize, newSize).map((range) => subtreeRoot(leaves, range));
}

export function assertConsistencyArguments(oldSize: number, newSize: number, available: number): void {
  assertTreeIndex(oldSize, 'oldSize');
  assertTreeIndex(newSize, 'newSize');
  if (oldSize > newSize) {
    throw new MerkleTreeError('OUT_OF_RANGE', `oldSize ${oldSize} > newSize ${newSize}`);
  }
  if (oldSize === 0 && newSize > 0) {
    throw new MerkleTreeError('OUT_OF_RANGE', 'no consistency proof from the empty tree');
  }
  if (newSize > available) {
    throw new MerkleTreeError('OUT_OF_RANGE', `newSize ${newSize} > ${available} leaves`);
  }
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `oldSize` leaves with root
 * `oldRoot` is a prefix of the tree of `newSize` leaves with root `newRoot`. Answers false,
 * never throws, for any malformed input. Equal sizes need an empty proof and equal roots (and
 * size 0 the empty-tree root); 0 = oldSize < newSize is refused, as in RFC 9162 (0 < first).
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!isTreeIndex(oldSize) || !isTreeIndex(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof) || !proof.every(isHash)) {
    return false;
  }
  if (oldSize === newSize) {
    return (
      proof.length === 0 &&
      hashesEqual(oldRoot, newRoot) &&
      (oldSize > 0 || hashesEqual(oldRoot, emptyRoot()))
    );
  }
  if (oldSize === 0) return false;
  // Step 1: an empty path cannot link two different sizes.
  if (proof.length === 0) return false;
  // Step 2: when the old tree is a perfect subtree, its root is the path's first node.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  // Step 3, and step 4: skip the levels where the old tree's last leaf is a right child.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 5.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 7.
  return sn === 0 && hashesEqual(fr, oldRoot) && hashesEqual(sr, newRoot);
}
