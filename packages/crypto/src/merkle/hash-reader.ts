import { assertConsistencyArguments } from './consistency.js';
import { CompactRange } from './compact-range.js';
import { assertHash, emptyRoot, hashChildren } from './hash.js';
import { assertInclusionArguments } from './inclusion.js';
import { MerkleTreeError } from './merkle-tree-error.js';
import { subtreeRoot } from './root.js';
import type { SubtreeRange } from './subtree-range.js';
import {
  assertTreeIndex,
  consistencyRanges,
  inclusionRanges,
  isPerfectSubtree,
  splitPoint,
} from './subtree-range.js';

/** Where a log keeps its leaf hashes, for example a database table ordered by leaf index. */
export interface HashReader {
  /** The leaf hashes of leaves [start, end), in order; end never exceeds the tree size asked about. */
  leafHashes(start: number, end: number): Promise<Uint8Array[]>;
}

/**
 * Roots of perfect subtrees already computed, keyed by opaque strings. A perfect subtree of an
 * append-only log never changes, so entries never go stale; a `Map` works, an LRU bounds it.
 * One cache per log: keys name positions, not contents.
 */
export interface SubtreeRootCache {
  get(key: string): Uint8Array | undefined;
  set(key: string, root: Uint8Array): unknown;
}

export interface HashReaderOptions {
  cache?: SubtreeRootCache;
  /** Ranges up to this many leaves are read in one call and hashed in memory. Default 1024. */
  batchLeaves?: number;
}

const DEFAULT_BATCH_LEAVES = 1024;
/** Smaller perfect subtrees are cheaper to rehash than to keep. */
const MIN_CACHED_LEAVES = 256;

/** RFC 9162 §2.1.1 MTH of the first `size` leaves of the log behind `reader`. */
export async function readRoot(
  reader: HashReader,
  size: number,
  options: HashReaderOptions = {},
): Promise<Uint8Array> {
  assertTreeIndex(size, 'size');
  if (size === 0) return emptyRoot();
  return readSubtreeRoot(reader, { start: 0, end: size }, options);
}

/** `inclusionProof` for a log behind `reader`; throws `MerkleTreeError` unless index < size. */
export async function readInclusionProof(
  reader: HashReader,
  index: number,
  size: number,
  options: HashReaderOptions = {},
): Promise<Uint8Array[]> {
  assertInclusionArguments(index, size, size);
  return readRanges(reader, inclusionRanges(index, size), options);
}

/** `consistencyProof` for a log behind `reader`, with the same rules on sizes. */
export async function readConsistencyProof(
  reader: HashReader,
  oldSize: number,
  newSize: number,
  options: HashReaderOptions = {},
): Promise<Uint8Array[]> {
  assertConsistencyArguments(oldSize, newSize, newSize);
  return readRanges(reader, consistencyRanges(oldSize, newSize), options);
}

/** The compact range of the first `size` leaves, to resume appending after a restart. */
export async function readCompactRange(
  reader: HashReader,
  size: number,
  options: HashReaderOptions = {},
): Promise<CompactRange> {
  assertTreeIndex(size, 'size');
  const roots: Uint8Array[] = [];
  let start = 0;
  // One perfect subtree per set bit of size, largest first.
  for (let height = largestPowerOfTwoAtMost(size); height >= 1; height /= 2) {
    if (size - start >= height) {
      roots.push(await readSubtreeRoot(reader, { start, end: start + height }, options));
      start += height;
    }
  }
  return CompactRange.fromHashes(size, roots);
}

async function readRanges(
  reader: HashReader,
  ranges: readonly SubtreeRange[],
  options: HashReaderOptions,
): Promise<Uint8Array[]> {
  const hashes: Uint8Array[] = [];
  // One range at a time, so a database-backed reader sees one query in flight.
  for (const range of ranges) hashes.push(await readSubtreeRoot(reader, range, options));
  return hashes;
}

/** MTH(D[start:end]) for a non-empty range, read in batches and memoised when perfect. */
async function readSubtreeRoot(
  reader: HashReader,
  range: SubtreeRange,
  options: HashReaderOptions,
): Promise<Uint8Array> {
  const size = range.end - range.start;
  const cacheKey = `${range.start}+${size}`;
  const cacheable = options.cache !== undefined && size >= MIN_CACHED_LEAVES && isPerfectSubtree(range);
  if (cacheable) {
    const cached = options.cache?.get(cacheKey);
    if (cached !== undefined) return cached.slice();
  }
  let root: Uint8Array;
  if (size <= batchLeaves(options)) {
    const leaves = await readLeafHashes(reader, range);
    root = subtreeRoot(leaves, { start: 0, end: size });
  } else {
    const mid = range.start + splitPoint(size);
    root = hashChildren(
      await readSubtreeRoot(reader, { start: range.start, end: mid }, options),
      await readSubtreeRoot(reader, { start: mid, end: range.end }, options),
    );
  }
  if (cacheable) options.cache?.set(cacheKey, root.slice());
  return root;
}

async function readLeafHashes(reader: HashReader, range: SubtreeRange): Promise<Uint8Array[]> {
  const leaves = await reader.leafHashes(range.start, range.end);
  const expected = range.end - range.start;
  if (!Array.isArray(leaves) || leaves.length !== expected) {
    const got = Array.isArray(leaves) ? leaves.length : 'none';
    throw new MerkleTreeError('READER_MISMATCH', `asked for ${expected} leaf hashes from ${range.start}, got ${got}`);
  }
  leaves.forEach((hash, i) => assertHash(hash, `leaf hash ${range.start + i}`));
  return leaves;
}

function batchLeaves(options: HashReaderOptions): number {
  const batch = options.batchLeaves;
  return batch !== undefined && batch >= 1 ? batch : DEFAULT_BATCH_LEAVES;
}

function largestPowerOfTwoAtMost(n: number): number {
  let power = 1;
  while (power * 2 <= n) power *= 2;
  return n === 0 ? 0 : power;
}
