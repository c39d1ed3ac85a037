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
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const h = createHash('sha256');
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
const fd = openSync(workerData.file, 'r');
let at = 0;
let upTo = 0;
parentPort.on('message', (m) => {
  upTo = Math.max(upTo, m.upTo);
  while (at < upTo) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, upTo - at), at);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    at += n;
  }
  if (m.end) {
    closeSync(fd);
    parentPort.postMessage({ bytes: at, sha256: h.digest('hex') });
  }
});
`;

export interface FileFollower {
  /** The first `bytes` bytes of the file are written: hash up to there. */
  advance(bytes: number): void;
  /** The file is `size` bytes and complete: its SHA-256 (hex); rejects if fewer bytes were read. */
  finish(size: number): Promise<string>;
  cancel(): Promise<void>;
}

/**
 * SHA-256 of a file that is being written, on a worker thread that reads each part once the
 * writer says it is written (restore of a large packed file: this thread opens and writes the
 * chunks, the worker hashes what is on disk behind it). For a file only this process writes.
 */
export function followFileInWorker(file: string): FileFollower {
  const worker = new Worker(FOLLOW_SOURCE, { eval: true, workerData: { file }, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 } });
  let expected = -1;
  const result = new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { bytes: number; sha256: string }) => (m.bytes === expected ? resolve(m.sha256) : reject(new Error(`read ${m.bytes} bytes of the restored file, not ${expected}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the hashing thread exited (${code}) before it answered`)));
  });
  result.catch(() => {});
  return {
    advance: (bytes) => worker.postMessage({ upTo: bytes }),
    finish: (size) => {
      expected = size;
      worker.postMessage({ upTo: size, end: true });
      return result.finally(() => void worker.terminate());
    },
    cancel: async () => {
      await worker.terminate();
    },
  };
}
