import { createHmac } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { CHUNK_PLAINTEXT } from './age.js';
import type { ManifestBody, ManifestFile, PackedFile } from './manifest.js';
import { ObjectSealer } from './object.js';
import { sliceHasherHere, sliceHasherInWorker, type SliceHasher } from './pack-hash.js';
import type { BackupTarget } from './target.js';

/**
 * The SQLite database stored as 64 KiB blocks in packs, so that an incremental snapshot stores
 * only the blocks that changed.
 *
 * - A block is 64 KiB of the file (the last one may be shorter): a multiple of every SQLite page
 *   size up to 64 KiB (https://sqlite.org/fileformat.html), and exactly one age STREAM chunk
 *   (age §Payload), so block i of a pack is ciphertext chunk i and can be read and opened alone.
 * - A pack is an ordinary age object (one header, two recipients) holding up to PACK_BLOCKS new
 *   blocks; its manifest entry lists the keyed id of each block (HMAC-SHA-256 under the writer's
 *   dedup key, 128 bits): the next snapshot reuses a block whose id it finds.
 * - The manifest's `packed` entry gives the file's size, plaintext SHA-256 and its blocks in file
 *   order as runs [pack, first block, count]. Restore reads each run from its pack, opens the
 *   chunks, writes the file in order and checks the whole file's SHA-256.
 * - A previous pack is reused only while at least half of its blocks are still used; otherwise
 *   its live blocks are written again into new packs, so restore never reads more than about
 *   twice the database.
 * A PostgreSQL dump is not cut into blocks (it is compressed per table: a change shifts everything
 * after it); it stays one object.
 */
export const BLOCK_SIZE = CHUNK_PLAINTEXT as 65536;
/** New blocks per pack: 16 MiB objects. */
export const PACK_BLOCKS = 256;
/** Bytes read from the database copy at a time. */
const READ_BLOCKS = 64;
/** Slices in memory at once: one being named here, one being read, one spare. */
const SLOTS = 3;
/**
 * Ids of each slice named on the hashing thread (which also takes the whole file's SHA-256 of
 * the slice); this thread names the other 56 and seals the new blocks. Measured at full size:
 * 4, 8 and 16 gave the same times within the noise (the two threads' hashing slows each other).
 */
const WORKER_BLOCKS = 8;

export const blockId = (dedupKey: Buffer, block: Buffer): string => createHmac('sha256', dedupKey).update(block).digest('hex').slice(0, 32);

export const blockCount = (size: number) => Math.ceil(size / BLOCK_SIZE);
export const blockLength = (packSize: number, index: number) => Math.min(BLOCK_SIZE, packSize - index * BLOCK_SIZE);

export interface PackResult {
  /** The pack entries this snapshot names (new and reused), in the order the file first uses them. */
  packs: ManifestFile[];
  packed: PackedFile;
  /** Objects written by this run (to sync before the manifest). */
  written: string[];
  bytesWritten: number;
  blocks: number;
  reusedBlocks: number;
}

interface Ref {
  pack: string;
  index: number;
}

/**
 * Stores the file at `file` (a local copy nothing else writes to) in packs, reusing the blocks
 * of `previous` (the last snapshot's manifest) that are unchanged and still stored.
 */
export async function packFile(
  target: BackupTarget,
  recipients: readonly string[],
  file: string,
  options: {
    path: string;
    dedupKey: Buffer;
    previous: ManifestBody | null;
    deferSync?: boolean;
    onPack?: (pack: ManifestFile) => void | Promise<void>;
    /** Hash the whole file in this thread instead of a worker thread (tests compare the two). */
    hashInThisThread?: boolean;
  },
): Promise<PackResult> {
  // Blocks the previous snapshot holds, by keyed id; a pack counts only if its object is still there.
  const prevPacks = new Map<string, ManifestFile>();
  const known = new Map<string, Ref>();
  for (const f of options.previous?.files ?? []) {
    if (f.path !== options.path || !f.blockIds) continue;
    prevPacks.set(f.object, f);
    f.blockIds.forEach((id, index) => known.set(id, { pack: f.object, index }));
  }
  const present = new Map<string, Promise<boolean>>();
  const stillStored = (pack: string) => {
    let p = present.get(pack);
    if (!p) {
      const f = prevPacks.get(pack)!;
      p = target.objectSize(pack).then((n) => n === f.encryptedSize);
      present.set(pack, p);
    }
    return p;
  };

  const newPacks = new Map<string, ManifestFile>();
  const written: string[] = [];
  let bytesWritten = 0;
  let sealer: ObjectSealer | null = null;
  let sealerIds: string[] = [];
  const fresh = new Map<string, Ref>();
  const closePack = async () => {
    if (!sealer) return;
    const sealed = await sealer.finish();
    const entry: ManifestFile = { path: options.path, kind: 'database', ...sealed, blockIds: sealerIds };
    newPacks.set(entry.object, entry);
    written.push(entry.object);
    bytesWritten += entry.encryptedSize;
    sealer = null;
    sealerIds = [];
    await options.onPack?.(entry);
  };
  const store = async (id: string, block: Buffer): Promise<Ref> => {
    sealer ??= await ObjectSealer.open(target, recipients, { deferSync: options.deferSync });
    const ref = { pack: sealer.object, index: sealerIds.length };
    sealerIds.push(id);
    fresh.set(id, ref);
    await sealer.write(block);
    // A short block ends the file; it must also end its pack (every other chunk is a full 64 KiB).
    if (sealerIds.length === PACK_BLOCKS || block.length < BLOCK_SIZE) await closePack();
    return ref;
  };

  let hasher: SliceHasher | null = null;
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const n = blockCount(size);
    const refs: Ref[] = new Array(n);
    const ids: string[] = new Array(n);
    // The whole file's SHA-256 (restore checks it) and the last WORKER_BLOCKS ids of each slice
    // on another thread, from the slices this one reads (pack-hash.ts); here if a thread cannot be had.
    hasher = options.hashInThisThread ? null : startHasher(options.dedupKey);
    hasher ??= sliceHasherHere(options.dedupKey, SLOTS, READ_BLOCKS * BLOCK_SIZE, BLOCK_SIZE);
    const h = hasher;
    let reusedBlocks = 0;
    // 1. One pass over the file: name each block, and store it unless this run or the last snapshot has it.
    //    Slice k is read into slot k % SLOTS and handed to the hashing thread as soon as it is read,
    //    while slice k - 1 is named and stored here; a slot is read into again only once its
    //    slice is done on both threads.
    const slices = Math.ceil(n / READ_BLOCKS);
    const fromBlock = (k: number) => Math.max(0, blockCount(sliceLength(k, size)) - WORKER_BLOCKS);
    const readAndSubmit = (k: number) => readSlice(fh, k * READ_BLOCKS, size, h.slots[k % SLOTS]!).then((slice) => ({ slice, theirs: h.submit(k % SLOTS, slice.length, fromBlock(k)) }));
    let pending = slices > 0 ? readAndSubmit(0) : null;
    for (let k = 0; k < slices; k++) {
      const { slice, theirs } = await pending!;
      theirs.catch(() => {});
      if (k + 1 < slices) pending = readAndSubmit(k + 1);
      const first = k * READ_BLOCKS;
      const split = fromBlock(k);
      for (let b = 0; b < split; b++) ids[first + b] = blockId(options.dedupKey, slice.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE));
      (await theirs).forEach((id, j) => (ids[first + split + j] = id));
      for (let i = first, at = 0; at < slice.length; i++, at += BLOCK_SIZE) {
        const id = ids[i]!;
        const again = fresh.get(id);
        const old = again ? undefined : known.get(id);
        if (again) refs[i] = again;
        else {
          const length = Math.min(BLOCK_SIZE, slice.length - at);
          if (old && blockLength(prevPacks.get(old.pack)!.size, old.index) === length && (await stillStored(old.pack))) {
            refs[i] = old;
            reusedBlocks++;
          } else {
            // A copy: the slot is read into again, and the sealer may hold the block until the next one.
            refs[i] = await store(id, Buffer.from(slice.subarray(at, at + length)));
          }
        }
      }
    }
    // 2. Previous packs of which this snapshot uses less than half: write their blocks again.
    const used = new Map<string, number>();
    for (const r of refs) if (prevPacks.has(r.pack)) used.set(r.pack, (used.get(r.pack) ?? 0) + 1);
    const sparse = new Set([...used].filter(([pack, count]) => count * 2 < prevPacks.get(pack)!.chunks.length).map(([pack]) => pack));
    for (let i = 0; i < n; i++) {
      if (!sparse.has(refs[i]!.pack)) continue;
      reusedBlocks--;
      const again = fresh.get(ids[i]!);
      refs[i] = again ?? (await store(ids[i]!, await readBlock(fh, i, size)));
    }
    await closePack();

    // 3. The layout: runs of consecutive blocks of one pack, and the packs in first-use order.
    const runs: PackedFile['runs'] = [];
    const packs: ManifestFile[] = [];
    const listed = new Set<string>();
    for (const r of refs) {
      const last = runs.at(-1);
      if (last && last[0] === r.pack && last[1] + last[2] === r.index) last[2]++;
      else runs.push([r.pack, r.index, 1]);
      if (!listed.has(r.pack)) {
        listed.add(r.pack);
        packs.push(newPacks.get(r.pack) ?? prevPacks.get(r.pack)!);
      }
    }
    const sha256 = await h.finish(size);
    return {
      packs,
      packed: { path: options.path, size, sha256, blockSize: BLOCK_SIZE, runs },
      written,
      bytesWritten,
      blocks: n,
      reusedBlocks,
    };
  } catch (err) {
    await (sealer as ObjectSealer | null)?.abort();
    await (hasher as SliceHasher | null)?.cancel();
    throw err;
  } finally {
    await fh.close();
  }
}

function startHasher(dedupKey: Buffer): SliceHasher | null {
  try {
    return sliceHasherInWorker(dedupKey, SLOTS, READ_BLOCKS * BLOCK_SIZE, BLOCK_SIZE);
  } catch {
    return null;
  }
}

const sliceLength = (k: number, size: number) => Math.min(READ_BLOCKS * BLOCK_SIZE, size - k * READ_BLOCKS * BLOCK_SIZE);

async function readSlice(fh: FileHandle, firstBlock: number, size: number, into: Buffer): Promise<Buffer> {
  const start = firstBlock * BLOCK_SIZE;
  const length = Math.min(READ_BLOCKS * BLOCK_SIZE, size - start);
  const buf = into.subarray(0, length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, start + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (got !== length) throw new Error('the database copy changed size while it was read');
  return buf;
}

async function readBlock(fh: FileHandle, index: number, size: number): Promise<Buffer> {
  const length = blockLength(size, index);
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, index * BLOCK_SIZE);
  if (bytesRead !== length) throw new Error('the database copy changed size while it was read');
  return buf;
}

export interface LayoutProblem {
  path: string;
  message: string;
}

/**
 * Checks, without any key, that each packed file is exactly tiled by blocks of packs the manifest
 * lists under the same path: runs within their packs, every block full but the file's last, the
 * sizes adding up, each pack's block ids matching its chunks.
 */
export function checkPackedLayout(body: ManifestBody): LayoutProblem[] {
  const problems: LayoutProblem[] = [];
  const seen = new Set<string>();
  for (const p of body.packed ?? []) {
    const fail = (message: string) => problems.push({ path: p.path, message: `${p.path}: ${message}` });
    if (seen.has(p.path)) fail('listed twice in packed');
    seen.add(p.path);
    const packs = new Map(body.files.filter((f) => f.path === p.path).map((f) => [f.object, f]));
    for (const f of packs.values()) if (!f.blockIds || f.blockIds.length !== f.chunks.length || blockCount(f.size) !== f.chunks.length) fail(`pack ${f.object} does not list one block id per chunk`);
    let total = 0;
    const blocks = p.runs.reduce((s, r) => s + r[2], 0);
    let at = 0;
    for (const [pack, first, count] of p.runs) {
      const f = packs.get(pack);
      if (!f) {
        fail(`block ${at} names pack ${pack}, which is not in the manifest`);
        return problems;
      }
      if (first + count > f.chunks.length) {
        fail(`blocks ${first}..${first + count - 1} of pack ${pack} do not exist (it holds ${f.chunks.length})`);
        return problems;
      }
      for (let j = first; j < first + count; j++, at++) {
        const len = blockLength(f.size, j);
        if (len !== BLOCK_SIZE && at !== blocks - 1) {
          fail(`block ${at} is short (${len} bytes) but not the last`);
          return problems;
        }
        total += len;
      }
    }
    if (total !== p.size) fail(`its blocks hold ${total} bytes, the manifest says ${p.size}`);
  }
  return problems;
}
