import { parentPort } from 'node:worker_threads';
import { checkRows, type VerifyRow } from './verify-check.js';

/** A verification worker: batches of rows in, leaf hashes (transferred) and problems out, in order. */
parentPort!.on('message', ({ logId, rows }: { logId: string; rows: VerifyRow[] }) => {
  const result = checkRows(logId, rows);
  parentPort!.postMessage(result, [result.hashes.buffer as ArrayBuffer]);
});
