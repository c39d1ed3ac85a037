import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { ConsiliumError } from '../errors.js';

/**
 * Content-addressed files of ciphertext: `<blobDir>/<first two hex digits>/<blob id>`. A blob is
 * written to `<blobDir>/incoming/` while it streams in and its SHA-256 is computed, then renamed
 * into place only if the hash is the id it was uploaded under, so a file under its name is always
 * exactly that content. Same API could sit on an S3-compatible store later.
 */
export function blobDirOf(config: Pick<Config, 'blobDir' | 'dataDir'>): string {
  return config.blobDir ? path.resolve(config.blobDir) : path.join(config.dataDir, 'blobs');
}

export function blobPath(dir: string, blobId: string): string {
  return path.join(dir, blobId.slice(0, 2), blobId);
}

export interface StoredBlob {
  size: number;
  /** The file was already there (same content): nothing was written. */
  existed: boolean;
}

/** Ciphertext streamed in and checked, not yet under its name: `place` puts it there, `discard` drops it. */
export interface StagedBlob {
  size: number;
  place(): Promise<{ existed: boolean }>;
  discard(): Promise<void>;
}

/**
 * Streams `body` to a temporary file, refusing more than `maxBytes` (PAYLOAD_TOO_LARGE, as soon as
 * the limit is passed) and content whose SHA-256 is not `blobId` (BLOB_HASH_MISMATCH). The file is
 * synced before `place` renames it into position, so a committed database row never names a blob
 * that a crash lost. Uploads place the file inside the transaction that holds the blob's name lock
 * and row lock (store.lockBlobName, store.lockBlob), so neither a deletion of the last link nor the
 * removal of a file whose row is gone (service.ts) can act on it in between.
 */
export async function stageBlob(dir: string, blobId: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StagedBlob> {
  const incoming = path.join(dir, 'incoming');
  await mkdir(incoming, { recursive: true, mode: 0o700 });
  const temp = path.join(incoming, `${randomUUID()}.part`);
  const file = await open(temp, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) throw new ConsiliumError('PAYLOAD_TOO_LARGE', `an attachment is at most ${maxBytes} bytes of ciphertext`);
      hash.update(chunk);
      await file.write(chunk);
    }
    await file.sync();
    await file.close();
    const actual = hash.digest('hex');
    if (actual !== blobId) throw new ConsiliumError('BLOB_HASH_MISMATCH', `the uploaded bytes hash to ${actual}, not to the blob id`);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  return {
    size,
    async place() {
      const target = blobPath(dir, blobId);
      const existing = await stat(target).catch(() => null);
      if (existing?.size === size) {
        await rm(temp, { force: true });
        return { existed: true };
      }
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await rename(temp, target);
      return { existed: false };
    },
    discard: () => rm(temp, { force: true }),
  };
}

/** Stages and places in one step (for callers outside an upload, e.g. backup tests seeding blobs). */
export async function writeBlob(dir: string, blobId: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBlob> {
  const staged = await stageBlob(dir, blobId, body, maxBytes);
  try {
    const { existed } = await staged.place();
    return { size: staged.size, existed };
  } finally {
    await staged.discard();
  }
}

const BLOB_NAME = /^[0-9a-f]{64}$/;
const SHARD_NAME = /^[0-9a-f]{2}$/;

/** Entries of a directory, or none when it is not there. */
async function entriesOf(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

/**
 * The blob files last modified before `beforeMs` (epoch ms), one shard directory at a time:
 * candidates for the sweep of files whose row is gone (a crash between committing the row's
 * deletion and removing the file). Only names of the store's own layout; never `incoming/`.
 */
export async function* blobFilesModifiedBefore(dir: string, beforeMs: number): AsyncGenerator<string[]> {
  for (const shard of await entriesOf(dir)) {
    if (!shard.isDirectory() || !SHARD_NAME.test(shard.name)) continue;
    const found: string[] = [];
    for (const entry of await entriesOf(path.join(dir, shard.name))) {
      if (!entry.isFile() || !BLOB_NAME.test(entry.name) || !entry.name.startsWith(shard.name)) continue;
      const info = await stat(path.join(dir, shard.name, entry.name)).catch(() => null);
      if (info && info.mtimeMs < beforeMs) found.push(entry.name);
    }
    if (found.length) yield found;
  }
}

/**
 * Removes upload temporaries in `incoming/` not written to since `beforeMs` (an upload cut off by
 * a crash of the server; a live upload writes as its bytes arrive). Returns how many went.
 */
export async function removeStaleIncoming(dir: string, beforeMs: number): Promise<number> {
  let removed = 0;
  const incoming = path.join(dir, 'incoming');
  for (const entry of await entriesOf(incoming)) {
    if (!entry.isFile() || !entry.name.endsWith('.part')) continue;
    const file = path.join(incoming, entry.name);
    const info = await stat(file).catch(() => null);
    if (!info || info.mtimeMs >= beforeMs) continue;
    await rm(file, { force: true });
    removed += 1;
  }
  return removed;
}

/** Deletes a blob's file (its last link and row are gone); true if there was one. */
export async function removeBlob(dir: string, blobId: string): Promise<boolean> {
  const file = blobPath(dir, blobId);
  const info = await stat(file).catch(() => null);
  if (!info) return false;
  await rm(file, { force: true });
  return true;
}

export async function readBlob(dir: string, blobId: string): Promise<{ size: number; stream: ReadStream } | null> {
  const file = blobPath(dir, blobId);
  const info = await stat(file).catch(() => null);
  if (!info) return null;
  return { size: info.size, stream: createReadStream(file) };
}
