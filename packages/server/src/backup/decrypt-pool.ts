import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AgeError, CHUNK_CIPHERTEXT } from './age.js';

/**
 * Opens age payload chunks (C2SP age §Payload: ChaCha20-Poly1305, 11-byte big-endian counter,
 * last-chunk flag) in worker threads, so a restore uses every core for the cipher while the main
 * thread reads, hashes and writes. The same construction as `openChunk` in age.ts; the worker is
 * plain JavaScript on node:crypto (eval'd), so it runs from the sources and the build alike.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createDecipheriv } = require('node:crypto');
const TAG = 16;
parentPort.on('message', ({ id, key, counter, data, sizes, last }) => {
  const out = Buffer.allocUnsafe(data.length - sizes.length * TAG);
  let at = 0, w = 0;
  for (let i = 0; i < sizes.length; i++) {
    const chunk = Buffer.from(data.buffer, data.byteOffset + at, sizes[i]);
    at += sizes[i];
    const n = Buffer.alloc(12);
    n.writeUIntBE(counter + i, 5, 6);
    n[11] = last && i === sizes.length - 1 ? 1 : 0;
    if (chunk.length < TAG) { parentPort.postMessage({ id, failed: counter + i, truncated: true }); return; }
    const d = createDecipheriv('chacha20-poly1305', Buffer.from(key), n, { authTagLength: TAG });
    d.setAuthTag(chunk.subarray(chunk.length - TAG));
    try {
      w += d.update(chunk.subarray(0, chunk.length - TAG)).copy(out, w);
      d.final();
    } catch {
      parentPort.postMessage({ id, failed: counter + i });
      return;
    }
  }
  const plain = new Uint8Array(out.buffer, out.byteOffset, w);
  parentPort.postMessage({ id, plain }, out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? [out.buffer] : []);
});
`;

interface Reply {
  id: number;
  plain?: Uint8Array;
  failed?: number;
  truncated?: boolean;
}

export class DecryptPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.workers = Array.from({ length: size }, () => {
      // A small young generation: the worker's garbage is its 1 MiB outputs, moved out at once; this keeps RSS low.
      const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      w.on('message', (r: Reply) => {
        const p = this.waiting.get(r.id);
        if (!p) return;
        this.waiting.delete(r.id);
        if (r.plain) p.resolve(Buffer.from(r.plain.buffer, r.plain.byteOffset, r.plain.byteLength));
        else if (r.truncated) p.reject(new AgeError('truncated', `chunk ${r.failed} is shorter than its tag`));
        else p.reject(new AgeError('authentication', `chunk ${r.failed} does not authenticate (altered, reordered or truncated data)`));
      });
      w.on('error', (err) => {
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      });
      return w;
    });
  }

  /** Opens consecutive chunks starting at `counter`; `last` marks the final one as the last chunk. */
  open(key: Buffer, counter: number, chunks: readonly Buffer[], last: boolean): Promise<Buffer> {
    const id = this.nextId++;
    // One copy into a buffer of its own, which is then moved (transferred), not cloned, to the worker.
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, key, counter, data, sizes: chunks.map((c) => c.length), last }, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Chunks per message to a worker: 1 MiB of ciphertext, so the per-message cost stays small. */
export const CHUNKS_PER_BATCH = Math.floor((1024 * 1024) / CHUNK_CIPHERTEXT) + 1;
