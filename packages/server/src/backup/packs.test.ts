import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgeError, generateIdentity } from './age.js';
import type { ManifestBody, ManifestFile } from './manifest.js';
import { checkObject, sealObject } from './object.js';
import { BLOCK_SIZE, PACK_BLOCKS, blockId, checkPackedLayout, packFile, type PackResult } from './packs.js';
import { restoreObjectFile, restorePacked, restorePackedFile } from './restore-pieces.js';
import { LocalTarget } from './target.js';
import { OpenerPool } from './open-pool.js';

const AGE = '/usr/bin/age';
let dir: string;
let target: LocalTarget;
let ops: { identity: string; recipient: string };
let escrow: { identity: string; recipient: string };
const dedupKey = randomBytes(32);
const DB = 'db/consilium.sqlite';
/** One ciphertext chunk: 64 KiB and its 16-byte tag. */
const CHUNK = BLOCK_SIZE + 16;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'consilium-packs-'));
  target = new LocalTarget('local', path.join(dir, 'target'));
  ops = await generateIdentity('x25519');
  escrow = await generateIdentity('x25519');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The parts of a manifest body packs read and write. */
const bodyOf = (r: PackResult) => ({ files: r.packs, packed: [r.packed] }) as unknown as ManifestBody;

async function pack(data: Buffer, previous: PackResult | null): Promise<PackResult> {
  const file = path.join(dir, `db-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, data);
  const r = await packFile(target, [ops.recipient, escrow.recipient], file, { path: DB, dedupKey, previous: previous && bodyOf(previous), deferSync: true });
  await target.syncObjects(r.written);
  return r;
}

async function restore(r: PackResult, body = bodyOf(r), identity = escrow.identity): Promise<Buffer> {
  const out: Buffer[] = [];
  let at = 0;
  await restorePacked(target, body, body.packed![0]!, [identity], async (plain, offset, written) => {
    // Pieces come in file order, each with its offset.
    expect(offset).toBe(at);
    out.push(Buffer.from(plain));
    at += plain.length;
    written?.();
  });
  return Buffer.concat(out);
}

const packPath = (object: string) => path.join(target.location, 'objects', object.slice(0, 2), object);

describe('database blocks in packs', () => {
  it('stores a file in packs, reuses unchanged blocks in the next snapshot, and restores both', async () => {
    // 300 blocks and a short tail: two packs; 20 zero blocks are stored once.
    const data = randomBytes(300 * BLOCK_SIZE + 4096);
    data.fill(0, 100 * BLOCK_SIZE, 120 * BLOCK_SIZE);
    const first = await pack(data, null);
    expect(first.blocks).toBe(301);
    expect(first.reusedBlocks).toBe(0);
    expect(first.packs).toHaveLength(2);
    expect(first.packs[0]!.blockIds).toHaveLength(PACK_BLOCKS);
    expect(first.packs.reduce((n, p) => n + p.blockIds!.length, 0)).toBe(301 - 19);
    expect(first.packed.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(checkPackedLayout(bodyOf(first))).toEqual([]);
    expect((await restore(first)).equals(data)).toBe(true);

    // One 4 KiB page changes in block 7 and one page is added at the end: two new blocks.
    const changed = Buffer.concat([data, randomBytes(4096)]);
    randomBytes(4096).copy(changed, 7 * BLOCK_SIZE + 8192);
    const second = await pack(changed, first);
    expect(second.blocks).toBe(301);
    expect(second.reusedBlocks).toBe(299);
    expect(second.written).toHaveLength(1);
    expect(second.packs.find((p) => p.object === second.written[0])!.blockIds).toHaveLength(2);
    expect(second.packed.runs.slice(0, 3)).toEqual([
      [first.packs[0]!.object, 0, 7],
      [second.written[0], 0, 1],
      // Blocks 8..100; blocks 100..119 are all zeros, stored once (block 100).
      [first.packs[0]!.object, 8, 93],
    ]);
    expect(checkPackedLayout(bodyOf(second))).toEqual([]);
    expect((await restore(second, bodyOf(second), ops.identity)).equals(changed)).toBe(true);
    // Each pack verifies on its own too (verify --read-data: every chunk hash, AEAD, pack SHA-256).
    for (const p of second.packs) expect(await checkObject(target, p, { identities: [ops.identity] })).toEqual([]);
  });

  it('writes the live blocks of a pack again once less than half of it is used', async () => {
    const data = randomBytes(40 * BLOCK_SIZE);
    const first = await pack(data, null);
    const changed = Buffer.concat([randomBytes(30 * BLOCK_SIZE), data.subarray(30 * BLOCK_SIZE)]);
    const second = await pack(changed, first);
    expect(second.reusedBlocks).toBe(0);
    expect(second.packs.map((p) => p.object)).not.toContain(first.packs[0]!.object);
    expect((await restore(second)).equals(changed)).toBe(true);
  });

  it('after a snapshot of the older format (the database as one object, no block ids) every block is new', async () => {
    const data = randomBytes(5 * BLOCK_SIZE);
    const first = await pack(data, null);
    const older = { files: [{ ...first.packs[0]!, blockIds: undefined }] } as unknown as ManifestBody;
    const file = path.join(dir, `db-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, data);
    const r = await packFile(target, [ops.recipient, escrow.recipient], file, { path: DB, dedupKey, previous: older });
    expect(r.reusedBlocks).toBe(0);
    expect(r.written).toHaveLength(1);
    expect((await restore(r)).equals(data)).toBe(true);
  });

  it('names blocks by a keyed hash: no plain SHA-256 of a block in the manifest', async () => {
    const data = randomBytes(3 * BLOCK_SIZE);
    const r = await pack(data, null);
    const text = JSON.stringify(bodyOf(r));
    for (let i = 0; i < 3; i++) {
      const block = data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
      expect(text).not.toContain(createHash('sha256').update(block).digest('hex').slice(0, 32));
      expect(r.packs[0]!.blockIds![i]).toBe(blockId(dedupKey, block));
      expect(blockId(randomBytes(32), block)).not.toBe(r.packs[0]!.blockIds![i]);
    }
  });

  it('restore fails on a flipped bit, swapped chunks, a missing or cut pack; the layout check catches gaps without a key', async () => {
    const data = randomBytes(5 * BLOCK_SIZE + 100);
    const r = await pack(data, null);
    const p = packPath(r.packs[0]!.object);
    const good = readFileSync(p);
    const CC = BLOCK_SIZE + 16;
    const start = good.length - (5 * CC + 116);
    const damaged = (bytes: Buffer) => {
      rmSync(p, { force: true });
      writeFileSync(p, bytes);
    };
    const flipped = Buffer.from(good);
    flipped[start + 2 * CC + 10]! ^= 1;
    damaged(flipped);
    await expect(restore(r)).rejects.toMatchObject({ kind: 'authentication' });
    damaged(Buffer.concat([good.subarray(0, start), good.subarray(start + CC, start + 2 * CC), good.subarray(start, start + CC), good.subarray(start + 2 * CC)]));
    await expect(restore(r)).rejects.toBeInstanceOf(AgeError);
    damaged(good.subarray(0, good.length - 50));
    await expect(restore(r)).rejects.toBeInstanceOf(AgeError);
    rmSync(p);
    await expect(restore(r)).rejects.toThrow();
    damaged(good);
    expect((await restore(r)).equals(data)).toBe(true);

    const body = bodyOf(r);
    const object = r.packs[0]!.object;
    const withRuns = (runs: [string, number, number][]) => ({ ...body, packed: [{ ...r.packed, runs }] }) as ManifestBody;
    expect(checkPackedLayout(withRuns([[object, 0, 6]]))).toEqual([]);
    expect(checkPackedLayout(withRuns([[object, 0, 2], [object, 3, 3]]))[0]!.message).toMatch(/holds 5 bytes|blocks hold/);
    expect(checkPackedLayout(withRuns([[object, 0, 7]]))[0]!.message).toMatch(/do not exist/);
    expect(checkPackedLayout(withRuns([[object, 5, 1], [object, 0, 5]]))[0]!.message).toMatch(/short/);
    expect(checkPackedLayout(withRuns([['f'.repeat(32), 0, 6]]))[0]!.message).toMatch(/not in the manifest/);
    // Blocks in another order tile the file, but the reassembled file fails its SHA-256.
    const reordered = withRuns([[object, 1, 1], [object, 0, 1], [object, 2, 4]]);
    expect(checkPackedLayout(reordered)).toEqual([]);
    await expect(restore(r, reordered)).rejects.toMatchObject({ kind: 'authentication' });
  });

  it('verify without a key names a missing pack, a flipped bit and reordered chunks in a pack', async () => {
    const r = await pack(randomBytes(4 * BLOCK_SIZE), null);
    const entry = r.packs[0]!;
    const p = packPath(entry.object);
    const good = readFileSync(p);
    const start = good.length - 4 * (BLOCK_SIZE + 16);
    const CC = BLOCK_SIZE + 16;
    const put = (bytes: Buffer) => {
      rmSync(p, { force: true });
      writeFileSync(p, bytes);
    };
    expect(await checkObject(target, entry)).toEqual([]);
    const flipped = Buffer.from(good);
    flipped[start + CC + 5]! ^= 1;
    put(flipped);
    expect((await checkObject(target, entry)).map((x) => x.kind)).toEqual(['chunk']);
    put(Buffer.concat([good.subarray(0, start), good.subarray(start + CC, start + 2 * CC), good.subarray(start, start + CC), good.subarray(start + 2 * CC)]));
    expect((await checkObject(target, entry)).map((x) => x.message).join()).toMatch(/holds the bytes of chunk 1 \(reordered\)/);
    rmSync(p);
    expect((await checkObject(target, entry)).map((x) => x.kind)).toEqual(['missing']);
    put(good);
  });

  it('hashes the whole file on a worker thread, the same as on this one', async () => {
    const data = Buffer.concat([randomBytes(9 * 1024 * 1024 + 5), Buffer.alloc(BLOCK_SIZE)]);
    const file = path.join(dir, `db-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const options = { path: DB, dedupKey, previous: null, deferSync: true };
    const inWorker = await packFile(target, [ops.recipient, escrow.recipient], file, options);
    const here = await packFile(target, [ops.recipient, escrow.recipient], file, { ...options, hashInThisThread: true });
    expect(inWorker.packed.sha256).toBe(sha256);
    expect(here.packed.sha256).toBe(sha256);
  });

  it('restores a large file (many pieces, several packs) checking its SHA-256, and refuses a wrong one', async () => {
    const data = Buffer.concat([randomBytes(40 * 1024 * 1024), randomBytes(12345)]);
    const r = await pack(data, null);
    const body = bodyOf(r);
    const dest = path.join(dir, `large-${randomBytes(4).toString('hex')}`);
    await restorePackedFile(target, body, r.packed, [ops.identity], dest);
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const wrong = { ...r.packed, sha256: createHash('sha256').update('not this file').digest('hex') };
    await expect(restorePackedFile(target, { ...body, packed: [wrong] } as ManifestBody, wrong, [ops.identity], `${dest}-wrong`)).rejects.toMatchObject({ kind: 'authentication' });
    const p = packPath(r.written[1]!);
    const good = readFileSync(p);
    const bad = Buffer.from(good);
    bad[5000]! ^= 1;
    rmSync(p);
    writeFileSync(p, bad);
    await expect(restorePackedFile(target, body, r.packed, [ops.identity], `${dest}-bad`)).rejects.toBeInstanceOf(AgeError);
    rmSync(p);
    writeFileSync(p, good);
  });

  it('restores to a file, and reports damage', async () => {
    const data = Buffer.concat([randomBytes(70 * BLOCK_SIZE), Buffer.alloc(10 * BLOCK_SIZE), randomBytes(1000)]);
    const first = await pack(data, null);
    const changed = Buffer.from(data);
    randomBytes(100).copy(changed, 3 * BLOCK_SIZE);
    const r = await pack(changed, first);
    const body = bodyOf(r);
    const dest = path.join(dir, `restored-${randomBytes(4).toString('hex')}`);
    await restorePackedFile(target, body, r.packed, [ops.identity], dest);
    expect(readFileSync(dest).equals(changed)).toBe(true);
    const p = packPath(r.written[0]!);
    const good = readFileSync(p);
    const bad = Buffer.from(good);
    bad[bad.length - 20]! ^= 1;
    rmSync(p);
    writeFileSync(p, bad);
    await expect(restorePackedFile(target, body, r.packed, [ops.identity], path.join(dir, `damaged-${randomBytes(4).toString('hex')}`))).rejects.toMatchObject({ kind: 'authentication' });
    rmSync(p);
    writeFileSync(p, good.subarray(0, good.length - 100));
    await expect(restorePackedFile(target, body, r.packed, [ops.identity], path.join(dir, `cut-${randomBytes(4).toString('hex')}`))).rejects.toBeInstanceOf(AgeError);
    rmSync(p);
    writeFileSync(p, good);
  });

  // npm test installs Debian's age first (scripts/test-tools.mjs), as age.test.ts relies on too.
  it('Debian age -d decrypts a pack on its own (its blocks, in pack order)', async () => {
    const data = randomBytes(3 * BLOCK_SIZE + 777);
    const r = await pack(data, null);
    const keyFile = path.join(dir, 'escrow.key');
    writeFileSync(keyFile, escrow.identity + '\n', { mode: 0o600 });
    expect(execFileSync(AGE, ['-d', '-i', keyFile, packPath(r.packs[0]!.object)]).equals(data)).toBe(true);
  });
});

describe('whole objects restored in pieces (restoreObjectFile)', () => {
  const seal = async (data: Buffer, recipients = [ops.recipient, escrow.recipient]): Promise<ManifestFile> => {
    // Pushed in odd-sized pieces: the chunking is the sealer's, not the caller's.
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length; at += 100_003) pieces.push(data.subarray(at, at + 100_003));
    const sealed = await sealObject(target, recipients, pieces, { deferSync: true });
    return { path: 'blobs/ab/cd', kind: 'blob', ...sealed };
  };
  const restoreTo = async (file: ManifestFile, identity = ops.identity, openers?: OpenerPool) => {
    const dest = path.join(dir, `object-${randomBytes(4).toString('hex')}`);
    await restoreObjectFile(target, file, [identity], dest, openers);
    return readFileSync(dest);
  };

  it('restores empty, short, chunk-aligned and multi-piece objects, as checkObject reads them', async () => {
    for (const size of [0, 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 5, 300 * BLOCK_SIZE, 300 * BLOCK_SIZE + 17]) {
      const data = randomBytes(size);
      const file = await seal(data);
      expect((await restoreTo(file)).equals(data)).toBe(true);
      expect(await checkObject(target, file, { identities: [escrow.identity] })).toEqual([]);
    }
  });

  it('with opener threads: files opened and hashed there, a wrong SHA-256 refused', async () => {
    const pool = new OpenerPool(2);
    try {
      const data = randomBytes(20 * BLOCK_SIZE + 3);
      const file = await seal(data);
      for (let i = 0; i < 3; i++) {
        const dest = path.join(dir, `pooled-${randomBytes(4).toString('hex')}`);
        await restoreObjectFile(target, file, [ops.identity], dest, pool);
        expect(readFileSync(dest).equals(data)).toBe(true);
      }
      const wrong = { ...file, sha256: createHash('sha256').update('other').digest('hex') };
      await expect(restoreObjectFile(target, wrong, [ops.identity], path.join(dir, `pooled-wrong-${randomBytes(4).toString('hex')}`), pool)).rejects.toMatchObject({ kind: 'authentication' });
      const packedData = randomBytes(300 * BLOCK_SIZE + 5);
      const r = await pack(packedData, null);
      const dest = path.join(dir, `pooled-packed-${randomBytes(4).toString('hex')}`);
      await restorePackedFile(target, bodyOf(r), r.packed, [ops.identity], dest, pool);
      expect(readFileSync(dest).equals(packedData)).toBe(true);
      const wrongPacked = { ...r.packed, sha256: wrong.sha256 };
      await expect(restorePackedFile(target, { ...bodyOf(r), packed: [wrongPacked] } as ManifestBody, wrongPacked, [ops.identity], `${dest}-wrong`, pool)).rejects.toMatchObject({ kind: 'authentication' });
      // The pool still answers after refusing.
      await restoreObjectFile(target, file, [ops.identity], `${dest}-again`, pool);
      expect(readFileSync(`${dest}-again`).equals(data)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('restores an object with a long header (post-quantum recipients, past the first 8 KiB)', async () => {
    const pq = await Promise.all(Array.from({ length: 6 }, () => generateIdentity('mlkem768x25519')));
    const data = randomBytes(2 * BLOCK_SIZE + 3);
    const file = await seal(data, pq.map((k) => k.recipient));
    const head = readFileSync(packPath(file.object)).subarray(0, 8192);
    expect(head.includes('\n---')).toBe(false);
    expect((await restoreTo(file, pq[5]!.identity)).equals(data)).toBe(true);
  });

  const refusals = async (restoreTo: (file: ManifestFile, identity?: string) => Promise<Buffer>, blocks: number) => {
    const data = randomBytes(blocks * BLOCK_SIZE + 99);
    const file = await seal(data);
    const p = packPath(file.object);
    const good = readFileSync(p);
    const tamper = async (bytes: Buffer, kind: string) => {
      rmSync(p);
      writeFileSync(p, bytes);
      await expect(restoreTo(file)).rejects.toMatchObject({ kind });
      rmSync(p);
      writeFileSync(p, good);
    };
    const flipped = Buffer.from(good);
    flipped[good.length - 70_000]! ^= 1;
    await tamper(flipped, 'authentication');
    await tamper(good.subarray(0, good.length - 1), 'truncated');
    await tamper(Buffer.concat([good, Buffer.from('x')]), 'truncated');
    const start = good.length - file.size - file.chunks.length * 16;
    const swapped = Buffer.from(good);
    good.copy(swapped, start, start + CHUNK, start + 2 * CHUNK);
    good.copy(swapped, start + CHUNK, start, start + CHUNK);
    await tamper(swapped, 'authentication');
    // The same plaintext sealed again: a valid age file, but not the header the manifest pins.
    const other = await seal(data);
    await tamper(readFileSync(packPath(other.object)), 'header');
    rmSync(p);
    await expect(restoreTo(file)).rejects.toMatchObject({ kind: 'truncated' });
    writeFileSync(p, good);
    const stranger = await generateIdentity('x25519');
    await expect(restoreTo(file, stranger.identity)).rejects.toMatchObject({ kind: 'no-identity' });
    // A manifest whose plaintext hash differs (the object itself intact) is refused too.
    await expect(restoreTo({ ...file, sha256: createHash('sha256').update('other').digest('hex') })).rejects.toMatchObject({ kind: 'authentication' });
    expect((await restoreTo(file)).equals(data)).toBe(true);
  };

  // 200 blocks: read in pieces; 5 blocks: read whole at once (header and chunks in one read).
  it.each([
    ['on this thread, in pieces', 0, 200],
    ['on opener threads, in pieces', 2, 200],
    ['on this thread, read whole', 0, 5],
    ['on opener threads, read whole', 2, 5],
  ])('refuses a flipped bit, a cut, appended bytes, swapped chunks, another header, a missing object and a wrong identity (%s)', async (_, threads, blocks) => {
    const pool = threads ? new OpenerPool(threads) : undefined;
    try {
      await refusals((file, identity = ops.identity) => restoreTo(file, identity, pool), blocks);
    } finally {
      await pool?.close();
    }
  });
});
