import { assertHash, emptyRoot, hashChildren } from './hash.js';
import type { SubtreeRange } from './subtree-range.js';
import { splitPoint } from './subtree-range.js';

/**
 * RFC 9162 §2.1.1 MTH(D[n]) over leaf hashes (not leaf data): the empty tree hashes to
 * SHA-256(""), one leaf is its own leaf hash, and n > 1 leaves split at k, the largest power of
 * two smaller than n: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  leafHashes.forEach((hash, i) => assertHash(hash, `leaf hash ${i}`));
  if (leafHashes.length === 0) return emptyRoot();
  return subtreeRoot(leafHashes, { start: 0, end: leafHashes.length });
}

/** MTH(D[start:end]) for a non-empty range of already checked leaf hashes. */
export function subtreeRoot(leafHashes: readonly Uint8Array[], range: SubtreeRange): Uint8Array {
  const size = range.end - range.start;
  // A copy, so that no caller can alter a leaf hash through a root or a proof.
  if (size === 1) return (leafHashes[range.start] as Uint8Array).slice();
  const mid = range.start + splitPoint(size);
  return hashChildren(
    subtreeRoot(leafHashes, { start: range.start, end: mid }),
    subtreeRoot(leafHashes, { start: mid, end: range.end }),
  );
}
