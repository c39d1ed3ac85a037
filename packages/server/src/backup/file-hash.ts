import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of a whole file on another thread, so that packing the SQLite copy (packs.ts: the
 * blocks' HMAC ids, sealing new blocks) and the whole-file hash restore checks run on two cores.
 * Only for a file nothing writes to any more (the backup's private copy). The worker is plain
 * JavaScript on node:fs and node:crypto, evaluated, so it runs from the sources and the build
 * alike.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const { file, size } = workerData;
const h = createHash('sha256');
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
const fd = openSync(file, 'r');
let at = 0;
try {
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, at);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    at += n;
  }
} finally {
  closeSync(fd);
}
parentPort.postMessage({ bytes: at, sha256: h.digest('hex') });
`;

export interface FileHash {
  /** Resolves with the SHA-256 (hex) of exactly `size` bytes; rejects if the file had another size. */
  digest(): Promise<string>;
  /** Stops the worker (on an error elsewhere). */
  cancel(): Promise<void>;
}

/** Starts hashing `file` (`size` bytes) on a worker thread. */
export function hashFileInWorker(file: string, size: number): FileHash {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, size }, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 } });
  const result = new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { bytes: number; sha256: string }) => (m.bytes === size ? resolve(m.sha256) : reject(new Error(`the file was ${m.bytes} bytes when hashed, not ${size}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the hashing thread exited (${code}) before it answered`)));
  });
  result.catch(() => {});
  return {
    digest: () => result,
    cancel: async () => {
      await worker.terminate();
    },
  };
}

const FOLLOW_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
const files = new Map();
parentPort.on('message', (m) => {
  let f = files.get(m.id);
  try {
    if (!f) {
      f = { fd: openSync(m.file, 'r'), h: createHash('sha256'), at: 0, upTo: 0 };
      files.set(m.id, f);
    }
    f.upTo = Math.max(f.upTo, m.upTo);
    while (f.at < f.upTo) {
      const n = readSync(f.fd, buf, 0, Math.min(buf.length, f.upTo - f.at), f.at);
      if (n === 0) break;
      f.h.update(buf.subarray(0, n));
      f.at += n;
    }
    if (m.end) {
      files.delete(m.id);
      closeSync(f.fd);
      parentPort.postMessage({ id: m.id, bytes: f.at, sha256: f.h.digest('hex') });
    }
  } catch (err) {
    if (f) {
      files.delete(m.id);
      try { closeSync(f.fd); } catch {}
    }
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

export interface FileFollower {
  /** The first `bytes` bytes of the file are written: hash up to there. */
  advance(bytes: number): void;
  /** The file is `size` bytes and complete: its SHA-256 (hex); rejects if fewer bytes were read. */
  finish(size: number): Promise<string>;
  /** Stops following (on an error elsewhere). */
  cancel(): Promise<void>;
}

/**
 * SHA-256 of files that are being written, on one worker thread that reads each part once the
 * writer says it is written (restore: this thread opens and writes the chunks, the worker hashes
 * what is on disk behind it, so the two run on two cores). For files only this process writes.
 */
export class FollowerPool {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (sha256: string) => void; reject: (err: Error) => void; expected: number }>();
  private failed: Error | null = null;

  constructor() {
    this.worker = new Worker(FOLLOW_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 } });
    this.worker.on('message', (m: { id: number; bytes?: number; sha256?: string; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`hashing the restored file failed: ${m.error}`));
      else if (m.bytes !== w.expected) w.reject(new Error(`read ${m.bytes} bytes of the restored file, not ${w.expected}`));
      else w.resolve(m.sha256!);
    });
    const fail = (err: Error) => {
      this.failed ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
  }

  follow(file: string): FileFollower {
    const id = this.nextId++;
    let started = false;
    const post = (upTo: number, end: boolean) => {
      this.worker.postMessage(started ? { id, upTo, end } : { id, file, upTo, end });
      started = true;
    };
    let finished: Promise<string> | null = null;
    return {
      advance: (bytes) => {
        if (!this.failed) post(bytes, false);
      },
      finish: (size) => {
        finished ??= new Promise<string>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          this.waiting.set(id, { resolve, reject, expected: size });
          post(size, true);
        });
        return finished;
      },
      // The worker closes a file when told it ends; a cancelled one is finished and its answer dropped.
      cancel: async () => {
        if (started && !finished) await this.finish0(id, post).catch(() => {});
      },
    };
  }

  private finish0(id: number, post: (upTo: number, end: boolean) => void): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiting.set(id, { resolve, reject, expected: -1 });
      post(0, true);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** One file followed on a thread of its own (the pool of one is closed when the file is done). */
export function followFileInWorker(file: string): FileFollower {
  const pool = new FollowerPool();
  const f = pool.follow(file);
  return {
    advance: (bytes) => f.advance(bytes),
    finish: (size) => f.finish(size).finally(() => void pool.close()),
    cancel: async () => {
      await pool.close();
    },
  };
}
