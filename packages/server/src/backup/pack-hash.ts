import { createHash, createHmac, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Hashing for packs.ts, on two threads without reading the file twice: the caller reads the
 * database copy into a few slots of shared memory; a worker thread takes the whole file's
 * SHA-256 (restore checks it) from those same slots, in order, and the keyed ids (HMAC-SHA-256)
 * of the last `workerBlocks` blocks of each slice, while the caller names the others. Hashing
 * is then split about evenly between two cores (the caller also seals the new blocks).
 * The worker is plain JavaScript on node:crypto, evaluated, so it runs from the sources and the
 * build alike.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash, createHmac } = require('node:crypto');
const { key, slots, blockSize } = workerData;
const views = slots.map((s) => Buffer.from(s));
const whole = createHash('sha256');
let bytes = 0;
parentPort.on('message', (m) => {
  try {
    if (m.end) {
      parentPort.postMessage({ end: true, bytes, sha256: whole.digest('hex') });
      return;
    }
    const slice = views[m.slot].subarray(0, m.length);
    whole.update(slice);
    bytes += m.length;
    const ids = [];
    for (let at = m.from * blockSize; at < m.length; at += blockSize) {
      ids.push(createHmac('sha256', key).update(slice.subarray(at, at + blockSize)).digest('hex').slice(0, 32));
    }
    parentPort.postMessage({ seq: m.seq, ids });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

export interface SliceHasher {
  /** The slot buffers to read slices into (a slot is reused once its slice is done). */
  readonly slots: readonly Buffer[];
  /**
   * Slice `length` bytes in slot `slot` is the file's next: the whole-file hash takes it, and the
   * ids of its blocks from block `from` on are returned (file order). Call in file order.
   */
  submit(slot: number, length: number, from: number): Promise<string[]>;
  /** The SHA-256 (hex) of everything submitted; rejects unless that is `size` bytes. */
  finish(size: number): Promise<string>;
  /** Stops the worker (on an error elsewhere). */
  cancel(): Promise<void>;
}

export const blockIdOf = (dedupKey: Buffer, block: Buffer): string => createHmac('sha256', dedupKey).update(block).digest('hex').slice(0, 32);

/** Slices hashed in this thread (no worker could be had, or tests comparing the two). */
export function sliceHasherHere(dedupKey: Buffer, slotCount: number, slotBytes: number, blockSize: number): SliceHasher {
  const slots = Array.from({ length: slotCount }, () => Buffer.allocUnsafe(slotBytes));
  const whole: Hash = createHash('sha256');
  let bytes = 0;
  return {
    slots,
    submit: async (slot, length, from) => {
      const slice = slots[slot]!.subarray(0, length);
      whole.update(slice);
      bytes += length;
      const ids: string[] = [];
      for (let at = from * blockSize; at < length; at += blockSize) ids.push(blockIdOf(dedupKey, slice.subarray(at, at + blockSize)));
      return ids;
    },
    finish: async (size) => {
      if (bytes !== size) throw new Error(`hashed ${bytes} bytes of the database copy, not ${size}`);
      return whole.digest('hex');
    },
    cancel: async () => {},
  };
}

/** The worker version; throws if a thread cannot be started. */
export function sliceHasherInWorker(dedupKey: Buffer, slotCount: number, slotBytes: number, blockSize: number): SliceHasher {
  const shared = Array.from({ length: slotCount }, () => new SharedArrayBuffer(slotBytes));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { key: Buffer.from(dedupKey), slots: shared, blockSize },
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 },
  });
  const waiting = new Map<number, { resolve: (ids: string[]) => void; reject: (err: Error) => void }>();
  let ending: { resolve: (r: { bytes: number; sha256: string }) => void; reject: (err: Error) => void } | null = null;
  let failed: Error | null = null;
  let seq = 0;
  const fail = (err: Error) => {
    failed ??= err;
    for (const w of waiting.values()) w.reject(failed);
    waiting.clear();
    ending?.reject(failed);
    ending = null;
  };
  worker.on('message', (m: { seq?: number; ids?: string[]; end?: true; bytes?: number; sha256?: string; error?: string }) => {
    if (m.error !== undefined) fail(new Error(`hashing the database copy failed: ${m.error}`));
    else if (m.end) {
      ending?.resolve({ bytes: m.bytes!, sha256: m.sha256! });
      ending = null;
    } else {
      const w = waiting.get(m.seq!);
      waiting.delete(m.seq!);
      w?.resolve(m.ids!);
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code}) before it answered`)));
  return {
    slots: shared.map((s) => Buffer.from(s)),
    submit: (slot, length, from) =>
      new Promise<string[]>((resolve, reject) => {
        if (failed) return reject(failed);
        const n = seq++;
        waiting.set(n, { resolve, reject });
        worker.postMessage({ seq: n, slot, length, from });
      }),
    finish: async (size) => {
      const r = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
        if (failed) return reject(failed);
        ending = { resolve, reject };
        worker.postMessage({ end: true });
      });
      void worker.terminate();
      if (r.bytes !== size) throw new Error(`hashed ${r.bytes} bytes of the database copy, not ${size}`);
      return r.sha256;
    },
    cancel: async () => {
      await worker.terminate();
    },
  };
}
