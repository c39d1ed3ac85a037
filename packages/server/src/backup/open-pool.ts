import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AgeError, CHUNK_CIPHERTEXT, chunkNonce, openChunk } from './age.js';

/**
 * Opening restored age chunks (ChaCha20-Poly1305, age §Payload) and hashing their plaintext on
 * worker threads, so that restore uses every core: the restoring thread only reads and writes
 * (libuv's thread pool does the copies) and hands each piece's ciphertext to a worker, moved, not
 * copied (a transferred ArrayBuffer); the worker writes the plaintext over the ciphertext and moves
 * the same memory back, which is written out and then used for the next read.
 *
 * All pieces of one file go to one worker, in order, so the worker keeps the file's running
 * SHA-256 of the plaintext (no second read of the restored file). The nonces are made here with
 * age.ts's chunkNonce, so the STREAM format lives in one place; the worker is plain JavaScript on
 * node:crypto, evaluated, so it runs from the sources and the build alike. The payload key goes
 * to the thread with each piece (a structured-clone copy, not wiped there: it stays in this
 * process's memory until collected, as the restoring thread's own copies did before).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createDecipheriv, createHash } = require('node:crypto');
const TAG = 16;
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'digest') {
    const h = hashes.get(m.file);
    hashes.delete(m.file);
    // A file none of whose pieces came here (an empty one) has the hash of nothing.
    parentPort.postMessage({ seq: m.seq, sha256: (h || createHash('sha256')).digest('hex') });
    return;
  }
  if (m.op === 'drop') {
    hashes.delete(m.file);
    return;
  }
  const data = Buffer.from(m.data, m.offset, m.length);
  m.lengths = [];
  const nonces = Buffer.from(m.nonces);
  let h = hashes.get(m.file);
  if (!h) {
    h = createHash('sha256');
    hashes.set(m.file, h);
  }
  // Each chunk's plaintext is copied over the ciphertext it came from (chunk j's plaintext at
  // j * 64 KiB, never past the start of chunk j + 1's ciphertext): one buffer goes back.
  let at = 0;
  try {
    for (let j = 0; j < m.count; j++) {
      const chunk = data.subarray(j * m.chunkBytes, Math.min((j + 1) * m.chunkBytes, m.length));
      const index = m.first + j;
      if (chunk.length < TAG) throw Object.assign(new Error('chunk ' + index + ' is shorter than its tag'), { kind: 'truncated' });
      const d = createDecipheriv('chacha20-poly1305', m.key, nonces.subarray(j * 12, j * 12 + 12), { authTagLength: TAG });
      d.setAuthTag(chunk.subarray(chunk.length - TAG));
      let p;
      try {
        p = d.update(chunk.subarray(0, chunk.length - TAG));
        d.final();
      } catch {
        throw Object.assign(new Error('chunk ' + index + ' does not authenticate (altered, reordered or truncated data)'), { kind: 'authentication' });
      }
      h.update(p);
      p.copy(data, at);
      m.lengths.push(p.length);
      at += p.length;
    }
  } catch (err) {
    hashes.delete(m.file);
    parentPort.postMessage({ seq: m.seq, error: String(err.message), kind: err.kind || 'authentication', data: m.data }, [m.data]);
    return;
  }
  parentPort.postMessage({ seq: m.seq, lengths: m.lengths, data: m.data }, [m.data]);
});
`;

/**
 * Restore's read buffers, used again once their piece is opened: 3 GB restored through fresh
 * buffers kept V8's collector busy. Only memory made here goes back (never a buffer a stream
 * handed us), and only such memory is moved to a worker as it is.
 */
export class PieceBuffers {
  private readonly spare: Buffer[] = [];
  private readonly own = new WeakSet<ArrayBuffer>();

  constructor(
    readonly size: number,
    private readonly max: number,
  ) {}

  take(): Buffer {
    return this.spare.pop() ?? this.adopt(Buffer.allocUnsafeSlow(this.size).buffer as ArrayBuffer);
  }

  owns(data: Buffer): boolean {
    return this.own.has(data.buffer as ArrayBuffer);
  }

  /** Memory of ours that came back from a worker (a new ArrayBuffer object for the same bytes). */
  adopt(memory: ArrayBuffer): Buffer {
    this.own.add(memory);
    return Buffer.from(memory, 0, memory.byteLength);
  }

  /** Gives a piece's buffer back once nothing refers to it any more. */
  give(data: Buffer): void {
    if (this.owns(data) && data.buffer.byteLength === this.size && this.spare.length < this.max) this.spare.push(Buffer.from(data.buffer, 0, this.size));
  }
}

/** A piece opened: its plaintext, chunk after chunk, and each chunk's length. */
export interface Opened {
  /** Over the memory the piece's ciphertext was in (give it back to PieceBuffers once written). */
  plain: Buffer;
  lengths: number[];
}

/** One restored file's pieces: opened in order, their plaintext hashed as they are opened. */
export interface FileOpener {
  /**
   * Opens `count` chunks of one age payload (chunk indexes first.., the one at `lastIndex` being
   * the payload's last) held back to back in `data`. The plaintext is written over the
   * ciphertext (`data` itself may have been moved to another thread: use only what this returns).
   * Rejects with AgeError.
   */
  open(key: Buffer, first: number, count: number, lastIndex: number, data: Buffer, buffers: PieceBuffers): Promise<Opened>;
  /** The SHA-256 (hex) of all the plaintext opened, in order; ends the file. */
  digest(): Promise<string>;
  /** Drops the file's state (after an error elsewhere). */
  cancel(): void;
}

/** Opens chunks on the calling thread (no worker to be had). */
export function inlineOpener(): FileOpener {
  const h: Hash = createHash('sha256');
  return {
    open: async (key, first, count, lastIndex, data) => {
      const lengths: number[] = new Array(count);
      let at = 0;
      for (let j = 0; j < count; j++) {
        const index = first + j;
        const p = openChunk(key, index, index === lastIndex, data.subarray(j * CHUNK_CIPHERTEXT, (j + 1) * CHUNK_CIPHERTEXT));
        h.update(p);
        // Over its own ciphertext, as the workers do (never past the next chunk's start).
        p.copy(data, at);
        lengths[j] = p.length;
        at += p.length;
      }
      return { plain: data.subarray(0, at), lengths };
    },
    digest: async () => h.digest('hex'),
    cancel: () => {},
  };
}

interface Answer {
  lengths?: number[];
  data?: ArrayBuffer;
  sha256?: string;
}

interface Pending {
  resolve: (m: Answer) => void;
  reject: (err: Error) => void;
}

class OpenWorker {
  readonly worker: Worker;
  /**
   * Bytes of the files given to this worker still to be opened: a new file goes to the least
   * loaded worker, so a large database given to one sends the blobs to the others meanwhile.
   */
  load = 0;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | null = null;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
    this.worker.on('message', (m: Answer & { seq: number; error?: string; kind?: string }) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (m.error !== undefined) {
        p.reject(Object.assign(new AgeError(m.kind === 'truncated' ? 'truncated' : 'authentication', m.error), { data: m.data }));
      } else p.resolve(m);
    });
    const fail = (err: Error) => {
      this.failed ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the restore thread exited (${code})`)));
  }

  private seq = 0;

  request(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Answer> {
    if (this.failed) return Promise.reject(this.failed);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ ...message, seq }, transfer);
    });
  }

  post(message: Record<string, unknown>): void {
    if (!this.failed) this.worker.postMessage(message);
  }
}

/**
 * Worker threads that open restored chunks: as many as the machine has cores, up to 4 (restore's
 * own thread then mostly waits on I/O). Each file is given to the least loaded one. close() when done.
 */
export class OpenerPool {
  private readonly workers: OpenWorker[] = [];
  private nextFile = 0;

  constructor(threads = Math.min(4, availableParallelism())) {
    for (let i = 0; i < Math.max(1, threads); i++) this.workers.push(new OpenWorker());
  }

  /** A file of about `bytes` bytes (its plaintext size) to open, on the least loaded thread. */
  file(bytes = 0): FileOpener {
    const w = this.workers.reduce((a, b) => (b.load < a.load ? b : a));
    const file = this.nextFile++;
    let ended = false;
    // What this file still adds to its worker's load: the pieces' bytes come off as they are opened.
    let left = bytes;
    w.load += left;
    const done = (n: number) => {
      const d = Math.min(n, left);
      left -= d;
      w.load -= d;
    };
    return {
      open: async (key, first, count, lastIndex, data, buffers) => {
        const nonces = Buffer.allocUnsafeSlow(count * 12);
        for (let j = 0; j < count; j++) chunkNonce(first + j, first + j === lastIndex).copy(nonces, j * 12);
        // The ciphertext moves to the worker (its memory comes back with the answer); a buffer
        // not made by `buffers` may share its memory with others and is copied first.
        const mine = buffers.owns(data);
        const own = mine ? data : ((copy) => Buffer.from(copy.buffer, 0, copy.length))(new Uint8Array(data));
        const length = own.length;
        try {
          const offset = own.byteOffset;
          const r = await w.request({ op: 'open', file, key, first, count, chunkBytes: CHUNK_CIPHERTEXT, data: own.buffer, offset, length, nonces: nonces.buffer }, [own.buffer as ArrayBuffer, nonces.buffer as ArrayBuffer]);
          const lengths = r.lengths!;
          const memory = mine ? buffers.adopt(r.data!) : Buffer.from(r.data!, 0, r.data!.byteLength);
          return { plain: memory.subarray(offset, offset + lengths.reduce((n, l) => n + l, 0)), lengths };
        } catch (err) {
          const back = (err as { data?: ArrayBuffer }).data;
          if (back && mine) buffers.give(buffers.adopt(back));
          throw err;
        } finally {
          done(length);
        }
      },
      digest: async () => {
        ended = true;
        done(left);
        const r = await w.request({ op: 'digest', file }, []);
        return r.sha256!;
      },
      cancel: () => {
        if (!ended) w.post({ op: 'drop', file });
        ended = true;
        done(left);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

