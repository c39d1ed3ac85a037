import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgeError, CHUNK_CIPHERTEXT, CHUNK_PLAINTEXT, PayloadSealer, payloadKey } from './age.js';
import { OpenerPool, PieceBuffers, inlineOpener, type FileOpener } from './open-pool.js';

/** An age payload (age §Payload, sealed by age.ts) cut in its ciphertext chunks, and its key. */
function seal(plaintext: Buffer): { key: Buffer; chunks: Buffer[] } {
  const fileKey = randomBytes(16);
  const chunks: Buffer[] = [];
  const sealer = new PayloadSealer(fileKey, (c) => chunks.push(Buffer.from(c)));
  sealer.push(plaintext);
  sealer.finish();
  return { key: payloadKey(fileKey, sealer.nonce), chunks };
}

const PIECE = 4;
const buffers = new PieceBuffers(PIECE * CHUNK_CIPHERTEXT, 4);

/** Opens a sealed payload piece by piece (PIECE chunks each, in buffers of `buffers`), as restore does. */
async function openAll(opener: FileOpener, key: Buffer, chunks: Buffer[], own = true): Promise<{ plain: Buffer; sha256: string }> {
  const out: Buffer[] = [];
  for (let first = 0; first < chunks.length; first += PIECE) {
    const piece = Buffer.concat(chunks.slice(first, first + PIECE));
    let data = piece;
    if (own) {
      data = buffers.take().subarray(0, piece.length);
      piece.copy(data);
    }
    const opened = await opener.open(key, first, Math.min(PIECE, chunks.length - first), chunks.length - 1, data, buffers);
    expect(opened.plain.length).toBe(opened.lengths.reduce((n, l) => n + l, 0));
    out.push(Buffer.from(opened.plain));
    buffers.give(opened.plain);
  }
  return { plain: Buffer.concat(out), sha256: await opener.digest() };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('opening restored chunks on worker threads (OpenerPool)', () => {
  let pool: OpenerPool;
  beforeAll(() => {
    pool = new OpenerPool(2);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('gives the plaintext and SHA-256 that opening on this thread gives, for empty, short, aligned and long payloads', async () => {
    for (const size of [0, 1, CHUNK_PLAINTEXT, 3 * CHUNK_PLAINTEXT + 7, 9 * CHUNK_PLAINTEXT]) {
      const data = randomBytes(size);
      const { key, chunks } = seal(data);
      const inThread = await openAll(inlineOpener(), key, chunks);
      const onWorker = await openAll(pool.file(), key, chunks);
      expect(inThread.plain.equals(data)).toBe(true);
      expect(onWorker.plain.equals(data)).toBe(true);
      expect(onWorker.sha256).toBe(sha256(data));
      expect(inThread.sha256).toBe(sha256(data));
    }
  });

  it('keeps the hashes of files opened at the same time apart', async () => {
    const files = Array.from({ length: 5 }, (_, i) => randomBytes(5 * CHUNK_PLAINTEXT + i));
    const results = await Promise.all(
      files.map((data) => {
        const { key, chunks } = seal(data);
        return openAll(pool.file(), key, chunks);
      }),
    );
    results.forEach((r, i) => {
      expect(r.plain.equals(files[i]!)).toBe(true);
      expect(r.sha256).toBe(sha256(files[i]!));
    });
  });

  it('moves its own buffers to the worker and takes them back; copies a buffer it did not make', async () => {
    const data = randomBytes(2 * CHUNK_PLAINTEXT);
    const { key, chunks } = seal(data);
    const mine = buffers.take();
    const piece = Buffer.concat(chunks);
    piece.copy(mine);
    const opened = await pool.file().open(key, 0, 2, 1, mine.subarray(0, piece.length), buffers);
    // The ciphertext's memory went to the worker (this view is detached) and came back as the plaintext's.
    expect(mine.length).toBe(0);
    expect(buffers.owns(opened.plain)).toBe(true);
    expect(opened.plain.equals(data)).toBe(true);
    const theirs = Buffer.concat(chunks);
    const copy = Buffer.from(theirs);
    const again = await pool.file().open(key, 0, 2, 1, theirs, buffers);
    expect(theirs.equals(copy)).toBe(true);
    expect(buffers.owns(again.plain)).toBe(false);
    expect(again.plain.equals(data)).toBe(true);
  });

  it.each([
    ['on this thread', () => inlineOpener()],
    ['on a worker', () => pool.file()],
  ])('refuses a flipped bit, swapped chunks, a wrong last-chunk flag and a cut tag (%s)', async (_, opener) => {
    const data = randomBytes(3 * CHUNK_PLAINTEXT + 100);
    const { key, chunks } = seal(data);
    const flipped = chunks.map((c) => Buffer.from(c));
    flipped[1]![10]! ^= 1;
    await expect(openAll(opener(), key, flipped)).rejects.toMatchObject({ kind: 'authentication' });
    await expect(openAll(opener(), key, [chunks[1]!, chunks[0]!, chunks[2]!, chunks[3]!])).rejects.toMatchObject({ kind: 'authentication' });
    // The last chunk opened as if another followed (its flag says last): refused.
    const o = opener();
    await expect(o.open(key, 3, 1, 4, Buffer.from(chunks[3]!), buffers)).rejects.toBeInstanceOf(AgeError);
    o.cancel();
    await expect(opener().open(key, 0, 1, 0, Buffer.alloc(10), buffers)).rejects.toMatchObject({ kind: 'truncated' });
    // Still answering after refusals.
    expect((await openAll(opener(), key, chunks)).plain.equals(data)).toBe(true);
  });

  it('rejects what is in flight when its thread is gone', async () => {
    const lone = new OpenerPool(1);
    const { key, chunks } = seal(randomBytes(CHUNK_PLAINTEXT));
    await lone.close();
    await expect(lone.file().open(key, 0, 1, 0, Buffer.from(chunks[0]!), buffers)).rejects.toThrow(/exited/);
  });
});
