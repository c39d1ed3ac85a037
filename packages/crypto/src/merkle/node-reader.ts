import { assertConsistencyArguments } from './consistency.js';
import { assertHash, hashChildren } from './hash.js';
import { assertInclusionArguments } from './inclusion.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import type { SubtreeRange } from './subtree-range.js';
import { consistencyRanges, inclusionRanges, isPerfectSubtree, splitPoint } from './subtree-range.js';

/**
 * A node of the tree: the root of the perfect subtree of 2^height leaves that starts at leaf
 * index * 2^height. It never changes once its last leaf is appended, which is what lets a log
 * store it (C2SP tlog-tiles keeps such nodes in tiles) and serve proofs without rehashing.
 */
export interface TreeNode {
  readonly height: number;
  readonly index: number;
}

/** Where a log keeps node hashes, for example tiles in a database. */
export interface NodeReader {
  /** The hashes of `nodes`, in the order asked; every node asked for is complete in the tree. */
  nodeHashes(nodes: readonly TreeNode[]): Promise<Uint8Array[]>;
}

/**
 * The perfect subtrees whose roots make up MTH(D[start:end]), left to right, following the
 * RFC 9162 §2.1.1 split (a range that is a perfect aligned subtree is one node).
 */
export function rangeNodes(range: SubtreeRange): TreeNode[] {
  const nodes: TreeNode[] = [];
  const walk = (start: number, end: number) => {
    const size = end - start;
    if (isPerfectSubtree({ start, end })) {
      nodes.push({ height: Math.log2(size), index: start / size });
      return;
    }
    const mid = start + splitPoint(size);
    walk(start, mid);
    walk(mid, end);
  };
  if (range.end > range.start) walk(range.start, range.end);
  return nodes;
}

/** MTH(D[start:end]) from the hashes of `rangeNodes(range)`, taken in order from `hashes`. */
function foldRange(range: SubtreeRange, next: () => Uint8Array): Uint8Array {
  const walk = (start: number, end: number): Uint8Array => {
    if (isPerfectSubtree({ start, end })) return next();
    const mid = start + splitPoint(end - start);
    const left = walk(start, mid);
    return hashChildren(left, walk(mid, end));
  };
  return walk(range.start, range.end);
}

/** The root of each range, reading every node the ranges need in one `nodeHashes` call. */
export async function readRangeRoots(reader: NodeReader, ranges: readonly SubtreeRange[]): Promise<Uint8Array[]> {
  const perRange = ranges.map(rangeNodes);
  const nodes = perRange.flat();
  const hashes = nodes.length ? await reader.nodeHashes(nodes) : [];
  if (!Array.isArray(hashes) || hashes.length !== nodes.length) {
    throw new MerkleTreeError('READER_MISMATCH', `asked for ${nodes.length} node hashes, got ${Array.isArray(hashes) ? hashes.length : 'none'}`);
  }
  hashes.forEach((hash, i) => assertHash(hash, `node ${nodes[i]!.height}/${nodes[i]!.index}`));
  let at = 0;
  return ranges.map((range) => foldRange(range, () => hashes[at++]!.slice()));
}

/** RFC 9162 §2.1.3.1 inclusion path of leaf `index` in the tree of `size` leaves, from stored nodes. */
export async function readInclusionProofFromNodes(reader: NodeReader, index: number, size: number): Promise<Uint8Array[]> {
  assertInclusionArguments(index, size, size);
  return readRangeRoots(reader, inclusionRanges(index, size));
}

/** RFC 9162 §2.1.4.1 consistency path between two tree sizes, from stored nodes. */
export async function readConsistencyProofFromNodes(reader: NodeReader, oldSize: number, newSize: number): Promise<Uint8Array[]> {
  assertConsistencyArguments(oldSize, newSize, newSize);
  return readRangeRoots(reader, consistencyRanges(oldSize, newSize));
}
