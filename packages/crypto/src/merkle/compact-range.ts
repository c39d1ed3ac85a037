import { assertHash, emptyRoot, hashChildren } from './hash.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import { assertTreeIndex } from './subtree-range.js';

/**
 * The right edge of an append-only Merkle tree: the roots of the perfect subtrees that the
 * binary digits of `size` cut the leaves into, largest (leftmost) first. It is all a log needs
 * to append a leaf and to know its root, each in O(log n), without reading older leaves.
 *
 * Immutable: `append` returns a new range, so a failed database transaction can simply keep
 * the old one.
 */
export class CompactRange {
  private constructor(
    readonly size: number,
    private readonly subtreeRoots: readonly Uint8Array[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * Rebuilds a range from `size` and the roots that `hashes()` gave for it (one per set bit
   * of `size`, largest subtree first), for example from a row stored beside a checkpoint.
   */
  static fromHashes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    assertTreeIndex(size, 'size');
    if (hashes.length !== countSubtrees(size)) {
      throw new MerkleTreeError(
        'MALFORMED_HASH',
        `a tree of ${size} leaves has ${countSubtrees(size)} subtree roots, not ${hashes.length}`,
      );
    }
    hashes.forEach((hash, i) => assertHash(hash, `subtree root ${i}`));
    return new CompactRange(size, hashes.map((hash) => hash.slice()));
  }

  /** The perfect-subtree roots, largest subtree first (copies). */
  hashes(): Uint8Array[] {
    return this.subtreeRoots.map((hash) => hash.slice());
  }

  append(leafHash: Uint8Array): CompactRange {
    assertHash(leafHash, 'leaf hash');
    if (!Number.isSafeInteger(this.size + 1)) {
      throw new MerkleTreeError('OUT_OF_RANGE', 'tree size would pass 2^53 - 1');
    }
    // Like adding one in binary: each trailing 1 bit of the size is a subtree of the same
    // height as the carry, so the two merge into one twice as large.
    const roots = [...this.subtreeRoots];
    let carry: Uint8Array = leafHash.slice();
    for (let bits = this.size; bits % 2 === 1; bits = Math.floor(bits / 2)) {
      carry = hashChildren(roots.pop() as Uint8Array, carry);
    }
    roots.push(carry);
    return new CompactRange(this.size + 1, roots);
  }

  appendAll(leafHashes: Iterable<Uint8Array>): CompactRange {
    let range: CompactRange = this;
    for (const leafHash of leafHashes) range = range.append(leafHash);
    return range;
  }

  /**
   * RFC 9162 §2.1.1 MTH of the whole tree: the split at the largest power of two smaller than
   * n puts the largest subtree on the left and the rest of the range on the right, so the
   * root folds the subtree roots from the right.
   */
  root(): Uint8Array {
    const last = this.subtreeRoots.length - 1;
    if (last < 0) return emptyRoot();
    let root: Uint8Array = (this.subtreeRoots[last] as Uint8Array).slice();
    for (let i = last - 1; i >= 0; i--) root = hashChildren(this.subtreeRoots[i] as Uint8Array, root);
    return root;
  }
}

/** The number of set bits of `size`, without 32-bit bitwise operators. */
function countSubtrees(size: number): number {
  let count = 0;
  for (let bits = size; bits > 0; bits = Math.floor(bits / 2)) count += bits % 2;
  return count;
}
