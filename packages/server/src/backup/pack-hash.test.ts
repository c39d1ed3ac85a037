import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockIdOf, sliceHasherHere, sliceHasherInWorker, type SliceHasher } from './pack-hash.js';

const BLOCK = 65536;
const SLICE = 4 * BLOCK;
const key = randomBytes(32);

/** Feeds `data` through a hasher as packs.ts does (slices into rotating slots) and returns every id and the SHA-256. */
async function run(h: SliceHasher, data: Buffer, workerBlocks: number): Promise<{ ids: string[]; sha256: string }> {
  const ids: string[] = [];
  for (let k = 0, at = 0; at < data.length; k++, at += SLICE) {
    const slot = k % h.slots.length;
    const length = Math.min(SLICE, data.length - at);
    data.copy(h.slots[slot]!, 0, at, at + length);
    const blocks = Math.ceil(length / BLOCK);
    const from = Math.max(0, blocks - workerBlocks);
    const slice = h.slots[slot]!.subarray(0, length);
    for (let b = 0; b < from; b++) ids.push(blockIdOf(key, slice.subarray(b * BLOCK, (b + 1) * BLOCK)));
    ids.push(...(await h.submit(slot, length, from)));
  }
  return { ids, sha256: await h.finish(data.length) };
}

describe('database copy hashing split over two threads (pack-hash.ts)', () => {
  it('the worker gives the same block ids and whole-file SHA-256 as this thread, from shared slots', async () => {
    const repeated = randomBytes(BLOCK);
    const data = Buffer.concat([randomBytes(5 * SLICE), repeated, repeated, randomBytes(3 * BLOCK + 777)]);
    const expected = Array.from({ length: Math.ceil(data.length / BLOCK) }, (_, i) => blockIdOf(key, data.subarray(i * BLOCK, (i + 1) * BLOCK)));
    const sha256 = createHash('sha256').update(data).digest('hex');
    for (const workerBlocks of [0, 1, 3, 4]) {
      const inWorker = await run(sliceHasherInWorker(key, 3, SLICE, BLOCK), data, workerBlocks);
      const here = await run(sliceHasherHere(key, 3, SLICE, BLOCK), data, workerBlocks);
      expect(inWorker).toEqual({ ids: expected, sha256 });
      expect(here).toEqual({ ids: expected, sha256 });
    }
    expect(await run(sliceHasherInWorker(key, 2, SLICE, BLOCK), Buffer.alloc(0), 1)).toEqual({ ids: [], sha256: createHash('sha256').digest('hex') });
  });

  it('refuses a size other than what was hashed; an error on the worker reaches the caller', async () => {
    const h = sliceHasherInWorker(key, 2, SLICE, BLOCK);
    randomBytes(SLICE).copy(h.slots[0]!);
    await h.submit(0, SLICE, 2);
    await expect(h.finish(SLICE + 1)).rejects.toThrow(/hashed 262144 bytes/);
    const broken = sliceHasherInWorker(key, 2, SLICE, BLOCK);
    // No slot 7: the worker fails on it, and every later call fails too.
    await expect(broken.submit(7, SLICE, 0)).rejects.toThrow(/hashing the database copy failed/);
    await expect(broken.submit(0, SLICE, 0)).rejects.toThrow(/hashing the database copy failed/);
    await expect(broken.finish(0)).rejects.toThrow(/hashing the database copy failed/);
    await broken.cancel();
    const here = sliceHasherHere(key, 1, SLICE, BLOCK);
    await here.submit(0, 10, 0);
    await expect(here.finish(11)).rejects.toThrow(/hashed 10 bytes/);
  });
});
