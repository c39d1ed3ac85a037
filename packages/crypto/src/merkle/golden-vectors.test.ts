import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.js';
import { consistencyProof, verifyConsistency } from './consistency.js';
import { hashLeaf } from './hash.js';
import { readConsistencyProof, readInclusionProof, readRoot } from './hash-reader.js';
import { inclusionProof, verifyInclusion } from './inclusion.js';
import { rootFromLeafHashes } from './root.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const goldenFile = path.resolve(repoRoot, '../shared/testvectors/c2sp-checkpoint/golden.json');
if (!existsSync(goldenFile)) throw new Error(`C2SP golden vectors missing: ${goldenFile}`);

interface Golden {
  leaf_hash_examples: { data_hex: string; leaf_hash: string; leaf_hash_hex: string }[];
  leaves_b64: string[];
  roots: { size: number; root: string; root_hex: string }[];
  inclusion: { size: number; index: number; leaf_hash: string; root: string; proof: string[] }[];
  consistency: { old_size: number; size: number; old_root: string; root: string; proof: string[] }[];
}

const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as Golden;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const leafHashes = golden.leaves_b64.map((leaf) => hashLeaf(bytes(leaf)));
const reader = { leafHashes: async (start: number, end: number) => leafHashes.slice(start, end) };

describe('C2SP golden Merkle vectors (Go sumdb/tlog)', () => {
  it('has the counts the README promises', () => {
    expect(golden.leaves_b64).toHaveLength(13);
    expect(golden.roots.map((r) => r.size)).toEqual([...Array(14).keys()]);
    expect(golden.inclusion).toHaveLength(91);
    expect(golden.consistency).toHaveLength(91);
  });

  it.each(golden.leaf_hash_examples)('leaf hash of 0x$data_hex', (example) => {
    const hash = hashLeaf(new Uint8Array(Buffer.from(example.data_hex, 'hex')));
    expect(b64(hash)).toBe(example.leaf_hash);
    expect(Buffer.from(hash).toString('hex')).toBe(example.leaf_hash_hex);
  });

  it.each(golden.roots)('root of size $size', async ({ size, root, root_hex }) => {
    expect(b64(rootFromLeafHashes(leafHashes.slice(0, size)))).toBe(root);
    expect(Buffer.from(bytes(root)).toString('hex')).toBe(root_hex);
    expect(b64(CompactRange.empty().appendAll(leafHashes.slice(0, size)).root())).toBe(root);
    expect(b64(await readRoot(reader, size))).toBe(root);
  });

  it.each(golden.inclusion)('inclusion of $index in $size', async (c) => {
    expect(b64(leafHashes[c.index] as Uint8Array)).toBe(c.leaf_hash);
    expect(inclusionProof(leafHashes, c.index, c.size).map(b64)).toEqual(c.proof);
    expect((await readInclusionProof(reader, c.index, c.size, { batchLeaves: 2 })).map(b64)).toEqual(c.proof);
    expect(verifyInclusion(bytes(c.leaf_hash), c.index, c.size, c.proof.map(bytes), bytes(c.root))).toBe(true);
  });

  it.each(golden.consistency)('consistency from $old_size to $size', async (c) => {
    expect(consistencyProof(leafHashes, c.old_size, c.size).map(b64)).toEqual(c.proof);
    expect((await readConsistencyProof(reader, c.old_size, c.size, { batchLeaves: 2 })).map(b64)).toEqual(c.proof);
    expect(
      verifyConsistency(c.old_size, c.size, c.proof.map(bytes), bytes(c.old_root), bytes(c.root)),
    ).toBe(true);
  });
});
