import { MerkleTreeError } from './merkle-tree-error.js';

/**
 * Leaves [start, end) of the tree whose root hash a proof carries. Every range a proof needs
 * comes out of the RFC 9162 §2.1.1 split, so when its size is a power of two it is also
 * aligned (start is a multiple of its size): a perfect subtree that never changes again.
 */
export interface SubtreeRange {
  readonly start: number;
  readonly end: number;
}

/** Tree sizes and indices are plain numbers, so they must stay exact integers. */
export function isTreeIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function assertTreeIndex(value: number, what: string): void {
  if (!isTreeIndex(value)) {
    throw new MerkleTreeError('OUT_OF_RANGE', `${what} must be an integer in [0, 2^53)`);
  }
}

/** RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  let power = 1;
  while (power < n) power *= 2;
  return power === n;
}

export function isPerfectSubtree(range: SubtreeRange): boolean {
  const size = range.end - range.start;
  return size > 0 && isPowerOfTwo(size) && range.start % size === 0;
}

/**
 * RFC 9162 §2.1.3.1 PATH(m, D[n]) as ranges instead of hashes, leaf side first:
 * for m < k it is PATH(m, D[0:k]) : MTH(D[k:n]), otherwise PATH(m - k, D[k:n]) : MTH(D[0:k]).
 */
export function inclusionRanges(index: number, size: number): SubtreeRange[] {
  const ranges: SubtreeRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      ranges.push({ start: mid, end });
      end = mid;
    } else {
      ranges.push({ start, end: mid });
      start = mid;
    }
  }
  // The loop walks root to leaf; proofs list siblings leaf to root.
  return ranges.reverse();
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) for 0 < m < n, as ranges:
 * SUBPROOF(m, D[m], b) is {} when b is true and {MTH(D[m])} otherwise; for m < n, with k the
 * split point, m <= k gives SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) and m > k gives
 * SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]).
 */
export function consistencyRanges(oldSize: number, newSize: number): SubtreeRange[] {
  const ranges: SubtreeRange[] = [];
  let start = 0;
  let end = newSize;
  let oldEnd = oldSize;
  // SUBPROOF's b: true while the walk has only gone left, where the old tree's root is the node
  // itself and the verifier already holds it (§2.1.4.2 step 2), so it is left out of the path.
  let onLeftEdge = true;
  while (oldEnd !== end) {
    const mid = start + splitPoint(end - start);
    if (oldEnd <= mid) {
      ranges.push({ start: mid, end });
      end = mid;
    } else {
      ranges.push({ start, end: mid });
      start = mid;
      onLeftEdge = false;
    }
  }
  if (!onLeftEdge) ranges.push({ start, end });
  return ranges.reverse();
}
