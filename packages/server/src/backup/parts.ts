import { createHmac } from 'node:crypto';
import type { ManifestFile } from './manifest.js';
import { sealObject } from './object.js';
import type { BackupTarget } from './target.js';

/**
 * The database is stored as fixed-size parts, one age object each, so an incremental backup
 * stores only the parts that changed (restic does the same with content-defined chunks).
 * 1 MiB is a multiple of every SQLite page size (512 B to 64 KiB, https://sqlite.org/fileformat.html),
 * so each part holds whole pages of the online-backup copy and a change to a few pages changes
 * few parts. A pg_dump (custom format, compressed per table) is cut the same way; there a change
 * shifts everything after it, so parts are reused only up to the first changed table.
 */
export const PART_SIZE = 1024 * 1024;

/** Parts sealed at once. */
const PART_LANES = 3;

/** HMAC-SHA-256 of a part's plaintext under the writer's dedup key (never a plain hash). */
export const keyedId = (dedupKey: Buffer, plaintext: Buffer): string => createHmac('sha256', dedupKey).update(plaintext).digest('hex');

export interface PartsResult {
  files: ManifestFile[];
  /** Parts taken over from the previous snapshot (not stored again). */
  reused: number;
  /** Ciphertext bytes written by this run. */
  bytesWritten: number;
}

/**
 * Cuts a stream into PART_SIZE parts (the last may be shorter; an empty stream is one empty
 * part) and stores each as an age object, unless the previous snapshot has a part with the same
 * keyed id whose object is still on the target with its recorded size: that entry is reused
 * (different offsets are fine, the object holds only the part's bytes).
 */
export async function sealParts(
  target: BackupTarget,
  recipients: readonly string[],
  source: AsyncIterable<Buffer | string>,
  options: { path: string; dedupKey: Buffer; previous: readonly ManifestFile[]; onPart?: (file: ManifestFile, written: boolean) => void | Promise<void> },
): Promise<PartsResult> {
  const known = new Map<string, ManifestFile>();
  for (const f of options.previous) if (f.keyedId && f.offset !== undefined) known.set(f.keyedId, f);
  const files: ManifestFile[] = [];
  let reused = 0;
  let bytesWritten = 0;
  let offset = 0;
  const seal = async (part: Buffer, at: number): Promise<{ file: ManifestFile; written: boolean }> => {
    const id = keyedId(options.dedupKey, part);
    const old = known.get(id);
    if (old && old.size === part.length && (await target.objectSize(old.object)) === old.encryptedSize) {
      const { sha256: _drop, ...rest } = old;
      return { file: { ...rest, path: options.path, kind: 'database', offset: at, keyedId: id }, written: false };
    }
    const { sha256: _plain, ...sealed } = await sealObject(target, recipients, [part]);
    return { file: { path: options.path, kind: 'database', offset: at, keyedId: id, ...sealed }, written: true };
  };
  // A few parts at once: each object's commit waits on fsync, during which the next part's age
  // header and encryption run. Results are taken in order, so parts are listed by offset.
  const inflight: Promise<{ file: ManifestFile; written: boolean }>[] = [];
  const take = async () => {
    const { file, written } = await inflight.shift()!;
    if (written) bytesWritten += file.encryptedSize;
    else reused++;
    files.push(file);
    await options.onPart?.(file, written);
  };
  const store = async (part: Buffer) => {
    const p = seal(part, offset);
    p.catch(() => {}); // taken (and thrown) in order by take()
    inflight.push(p);
    offset += part.length;
    if (inflight.length >= PART_LANES) await take();
  };
  let buf = Buffer.allocUnsafe(PART_SIZE);
  let fill = 0;
  try {
    for await (const piece of source) {
      let data = typeof piece === 'string' ? Buffer.from(piece) : piece;
      while (data.length > 0) {
        const n = Math.min(data.length, PART_SIZE - fill);
        data.copy(buf, fill, 0, n);
        fill += n;
        data = data.subarray(n);
        if (fill === PART_SIZE) {
          await store(buf);
          buf = Buffer.allocUnsafe(PART_SIZE);
          fill = 0;
        }
      }
    }
    if (fill > 0 || offset === 0) await store(buf.subarray(0, fill));
    while (inflight.length > 0) await take();
  } finally {
    // On a failure, let the parts still being sealed settle (each discards its own partial object).
    await Promise.allSettled(inflight);
  }
  return { files, reused, bytesWritten };
}

export interface PartLayoutProblem {
  path: string;
  message: string;
}

/**
 * Groups a manifest's files by path and checks that a file stored in parts is tiled exactly:
 * parts listed in order, from offset 0, each starting where the previous ended. Needs no key.
 */
export function partLayout(files: readonly ManifestFile[]): { multi: Map<string, ManifestFile[]>; problems: PartLayoutProblem[] } {
  const multi = new Map<string, ManifestFile[]>();
  const problems: PartLayoutProblem[] = [];
  const whole = new Set<string>();
  for (const f of files) {
    if (f.offset === undefined) {
      if (whole.has(f.path) || multi.has(f.path)) problems.push({ path: f.path, message: `${f.path} is listed more than once` });
      whole.add(f.path);
    } else {
      if (whole.has(f.path)) problems.push({ path: f.path, message: `${f.path} is listed both whole and in parts` });
      const list = multi.get(f.path) ?? [];
      list.push(f);
      multi.set(f.path, list);
    }
  }
  for (const [p, parts] of multi) {
    let at = 0;
    for (const [i, part] of parts.entries()) {
      if (part.offset !== at) {
        problems.push({ path: p, message: `${p}: part ${i} starts at byte ${part.offset}, expected ${at} (parts missing, overlapping or out of order)` });
        break;
      }
      at += part.size;
    }
  }
  return { multi, problems };
}
