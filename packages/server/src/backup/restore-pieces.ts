import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { AgeError, CHUNK_CIPHERTEXT, CHUNK_PLAINTEXT, MAX_HEADER, headerLength, payloadKey, unwrapFileKey } from './age.js';
import type { ManifestBody, ManifestFile, PackedFile } from './manifest.js';
import { inlineOpener, PieceBuffers, type FileOpener, type Opened, type OpenerPool } from './open-pool.js';
import { blockCount, blockLength, checkPackedLayout } from './packs.js';
import type { BackupTarget } from './target.js';

/**
 * Restoring files from age objects: a packed file (packs.ts) reassembled from its packs' blocks,
 * or a whole object (a blob, the configuration, a PostgreSQL dump), read in pieces, opened and
 * written positioned, the plaintext checked against the manifest's SHA-256.
 */
/**
 * The age header of a pack (or of any object), checked against the manifest's headerSha256, and
 * its payload key. Reads the first 8 KiB, or up to 64 KiB + the nonce for a header that long.
 */
async function openPack(target: BackupTarget, pack: ManifestFile, identities: readonly string[]): Promise<{ key: Buffer; dataStart: number }> {
  const readHead = async (upTo: number) => {
    const length = Math.min(pack.encryptedSize, upTo);
    if (target.readRange) return target.readRange(pack.object, 0, length);
    const head: Buffer[] = [];
    let have = 0;
    for await (const b of target.readObject(pack.object, { start: 0, end: length - 1 })) {
      head.push(b);
      have += b.length;
    }
    return Buffer.concat(head, have);
  };
  let buf = await readHead(8192);
  if (headerLength(buf) < 0 && buf.length === 8192) buf = await readHead(MAX_HEADER + 16);
  return openHeader(buf, pack, identities);
}

/**
 * The age header at the start of `buf` (followed by the 16-byte payload nonce), checked against
 * the manifest's headerSha256, and its payload key.
 */
async function openHeader(buf: Buffer, pack: ManifestFile, identities: readonly string[]): Promise<{ key: Buffer; dataStart: number }> {
  const len = headerLength(buf);
  if (len < 0 || buf.length < len + 16) throw new AgeError('truncated', `object ${pack.object}: no complete age header`);
  const prefix = buf.subarray(0, len + 16);
  if (createHash('sha256').update(prefix).digest('hex') !== pack.headerSha256) throw new AgeError('header', `object ${pack.object}: the age header differs from the manifest's`);
  const fileKey = await unwrapFileKey(buf.subarray(0, len), identities);
  const key = payloadKey(fileKey, prefix.subarray(len));
  fileKey.fill(0);
  return { key, dataStart: len + 16 };
}

/** A piece of a run: at most PIECE_BLOCKS chunks of one pack, with what is needed to open them. */
interface Piece {
  pack: ManifestFile;
  key: Buffer;
  /** Byte range of the ciphertext chunks in the pack (inclusive end). */
  start: number;
  end: number;
  first: number;
  count: number;
  /** The ciphertext, when it was read already (a whole object read at once). */
  data?: Buffer;
}

/**
 * Chunks read at once when restoring (2 MiB: most blobs are one piece), and per file: pieces read
 * ahead of the one being opened, pieces being opened at once (on the opener's thread), and
 * positioned writes in flight: one, as ext4 takes the file's lock for each buffered write (more
 * spun on it, measured). At most 2 + 2 + 1 pieces of one file are in memory.
 */
const PIECE_BLOCKS = 32;
const READ_AHEAD = 1;
const OPENS_IN_FLIGHT = 2;
const WRITES_IN_FLIGHT = 1;
/** Headers of packs read and opened at once. */
const OPEN_LANES = 4;

/** Checks the layout, opens every pack's header (pinned by the manifest) and cuts runs into pieces. */
async function planPacked(target: BackupTarget, body: ManifestBody, packed: PackedFile, identities: readonly string[]): Promise<Piece[]> {
  const layout = checkPackedLayout(body);
  if (layout.length > 0) throw new AgeError('header', layout.map((p) => p.message).join('; '));
  const packs = new Map(body.files.filter((f) => f.path === packed.path).map((f) => [f.object, f]));
  const used = [...new Set(packed.runs.map((r) => r[0]))];
  const opened = new Map<string, { key: Buffer; dataStart: number }>();
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(OPEN_LANES, used.length) }, async () => {
        while (next < used.length) {
          const object = used[next++]!;
          opened.set(object, await openPack(target, packs.get(object)!, identities));
        }
      }),
    );
  } catch (err) {
    for (const o of opened.values()) o.key.fill(0);
    throw err;
  }
  const pieces: Piece[] = [];
  for (const [object, first, count] of packed.runs) {
    const pack = packs.get(object)!;
    const { key, dataStart } = opened.get(object)!;
    // Long runs in pieces of at most PIECE_BLOCKS chunks, to bound memory.
    for (let k = 0; k < count; k += PIECE_BLOCKS) {
      const f = first + k;
      const c = Math.min(PIECE_BLOCKS, count - k);
      pieces.push({ pack, key, first: f, count: c, start: dataStart + f * CHUNK_CIPHERTEXT, end: Math.min(pack.encryptedSize, dataStart + (f + c) * CHUNK_CIPHERTEXT) - 1 });
    }
  }
  return pieces;
}

const PIECE_BYTES = PIECE_BLOCKS * CHUNK_CIPHERTEXT;
/**
 * An object whose header and chunks fit in one read buffer (a header of up to 8 KiB, and one
 * byte more to see that nothing follows) is read whole at once: most blobs.
 */
const WHOLE_READ_BYTES = PIECE_BYTES + 8192 + 1;
/** Read buffers kept for the next pieces (enough for a few files' read-ahead and opens). */
const pieceBuffers = new PieceBuffers(WHOLE_READ_BYTES, 8);

/**
 * Where opened pieces go: `plaintext` belongs at `offset` of the file; `written`, if given, is
 * called once nothing refers to `plaintext` any more (its memory is then used again).
 */
export type PieceSink = (plaintext: Buffer, offset: number, written?: () => void) => Promise<void>;

/** One piece's ciphertext, whole (a range read into a spare buffer where the target has one). */
async function readPiece(target: BackupTarget, p: Piece): Promise<Buffer> {
  if (p.data) return p.data;
  const length = p.end - p.start + 1;
  let data: Buffer;
  if (target.readRange) {
    const into = length <= PIECE_BYTES ? pieceBuffers.take() : undefined;
    data = await target.readRange(p.pack.object, p.start, length, into);
  } else {
    const parts: Buffer[] = [];
    let got = 0;
    for await (const b of target.readObject(p.pack.object, { start: p.start, end: p.end })) {
      parts.push(b);
      got += b.length;
    }
    data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }
  if (data.length !== length) throw new AgeError('truncated', `object ${p.pack.object} is shorter than the manifest says`);
  return data;
}

/**
 * Reassembles a packed file in order: each run's chunks are read from its pack and opened
 * (ChaCha20-Poly1305 under the pack's payload key, whose header is pinned by the manifest), the
 * plaintext goes to `sink` piece by piece (at most PIECE_BLOCKS blocks, with the piece's offset in
 * the file), and the whole file's size and SHA-256 are checked at the end: only then is the
 * output whole and authentic. `opener` (default: this thread) opens and hashes.
 */
export async function restorePacked(
  target: BackupTarget,
  body: ManifestBody,
  packed: PackedFile,
  identities: readonly string[],
  sink: PieceSink,
  opener: FileOpener = inlineOpener(),
): Promise<void> {
  const pieces = await planPacked(target, body, packed, identities);
  await openPieces(target, pieces, packed, sink, opener);
}

/**
 * Opens `pieces` in order: READ_AHEAD of them read and OPENS_IN_FLIGHT opened (by `opener`, on
 * its thread) while the one before is handed to `sink`. Checks every block's length, and at the
 * end the size and SHA-256 of all of it against `expected` (AgeError otherwise). Wipes the
 * pieces' keys.
 */
async function openPieces(
  target: BackupTarget,
  pieces: Piece[],
  expected: { path: string; size: number; sha256: string },
  sink: PieceSink,
  opener: FileOpener,
): Promise<void> {
  let size = 0;
  const reads: Promise<Buffer>[] = [];
  const opens: { piece: Piece; plain: Promise<Opened> }[] = [];
  let nextRead = 0;
  const readMore = () => {
    while (nextRead < pieces.length && reads.length < READ_AHEAD + 1) {
      const r = readPiece(target, pieces[nextRead++]!);
      r.catch(() => {});
      reads.push(r);
    }
  };
  // The oldest piece opened: its lengths checked, then to the sink at its offset.
  const sinkOne = async () => {
    const { piece: p, plain } = opens.shift()!;
    const out = await plain;
    const offset = size;
    for (let j = 0; j < p.count; j++) {
      const index = p.first + j;
      if (out.lengths[j] !== blockLength(p.pack.size, index)) throw new AgeError('truncated', `${expected.path}: object ${p.pack.object}: chunk ${index} has the wrong length`);
      size += out.lengths[j]!;
    }
    await sink(out.plain, offset, () => pieceBuffers.give(out.plain));
  };
  let ok = false;
  try {
    for (let r = 0; r < pieces.length; r++) {
      readMore();
      const p = pieces[r]!;
      const data = await reads.shift()!;
      readMore();
      const plain = opener.open(p.key, p.first, p.count, p.pack.chunks.length - 1, data, pieceBuffers);
      plain.catch(() => {});
      opens.push({ piece: p, plain });
      if (opens.length >= OPENS_IN_FLIGHT) await sinkOne();
    }
    while (opens.length > 0) await sinkOne();
    ok = true;
  } finally {
    for (const p of pieces) p.key.fill(0);
    await Promise.allSettled([...reads, ...opens.map((o) => o.plain)]);
    if (!ok) opener.cancel();
  }
  if (size !== expected.size || (await opener.digest()) !== expected.sha256) throw new AgeError('authentication', `${expected.path}: the restored file differs from the manifest's size or SHA-256`);
}

/**
 * Restores one whole age object (a blob, the configuration, a PostgreSQL dump) to `dest` the way
 * a packed file is restored: its header pinned by the manifest's headerSha256, its chunks read in
 * pieces and opened in order (the manifest's chunk count says which is last), the plaintext
 * checked against the manifest's size and SHA-256. The stored object must be exactly as long as
 * the manifest says (no cut, nothing appended). Throws AgeError; `dest` may then hold a partial
 * file for the caller to remove. With `openers`, chunks are opened and hashed on their threads.
 */
export async function restoreObjectFile(target: BackupTarget, file: ManifestFile, identities: readonly string[], dest: string, openers?: OpenerPool): Promise<void> {
  const n = file.chunks.length;
  // age STREAM: full 64 KiB chunks, then a last one of 1..64 KiB (empty only for an empty file).
  if (n !== Math.max(1, blockCount(file.size))) throw new AgeError('header', `${file.path}: ${n} chunks cannot hold ${file.size} bytes`);
  const whole = target.readRange && file.encryptedSize < WHOLE_READ_BYTES ? await readWhole(target, file) : null;
  if (!whole) {
    const stored = await target.objectSize(file.object);
    if (stored === null) throw new AgeError('truncated', `${file.path}: object ${file.object} is missing`);
    if (stored !== file.encryptedSize) throw new AgeError('truncated', `${file.path}: object is ${stored} bytes, the manifest says ${file.encryptedSize}`);
  }
  const { key, dataStart } = whole ? await openHeader(whole, file, identities) : await openPack(target, file, identities);
  if (file.encryptedSize !== dataStart + file.size + n * (CHUNK_CIPHERTEXT - CHUNK_PLAINTEXT)) {
    key.fill(0);
    throw new AgeError('header', `${file.path}: the object's size does not match its header and chunks`);
  }
  const pieces: Piece[] = [];
  if (whole) pieces.push({ pack: file, key, first: 0, count: n, start: dataStart, end: file.encryptedSize - 1, data: whole.subarray(dataStart) });
  else {
    for (let f = 0; f < n; f += PIECE_BLOCKS) {
      const c = Math.min(PIECE_BLOCKS, n - f);
      pieces.push({ pack: file, key, first: f, count: c, start: dataStart + f * CHUNK_CIPHERTEXT, end: Math.min(file.encryptedSize, dataStart + (f + c) * CHUNK_CIPHERTEXT) - 1 });
    }
  }
  try {
    await writePieces(dest, (sink) => openPieces(target, pieces, file, sink, openers?.file(file.size) ?? inlineOpener()));
  } finally {
    key.fill(0);
  }
}

/**
 * A small object read whole in one read (header, nonce and every chunk), instead of a stat, a
 * header read and a piece read: it must be exactly as long as the manifest says.
 */
async function readWhole(target: BackupTarget, file: ManifestFile): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await target.readRange!(file.object, 0, file.encryptedSize + 1, pieceBuffers.take());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AgeError('truncated', `${file.path}: object ${file.object} is missing`);
    throw err;
  }
  if (data.length !== file.encryptedSize) throw new AgeError('truncated', `${file.path}: object is ${data.length > file.encryptedSize ? 'longer than' : `${data.length} bytes,`} the manifest says ${file.encryptedSize}`);
  return data;
}

/**
 * Restores a packed file to `dest` (created; must not exist). Throws AgeError on any damage;
 * `dest` may then hold a partial file for the caller to remove. Each piece is written with one
 * positioned writev while the next ones are read and opened. No fsync, as restic's restore does
 * none: the caller renames the finished file into place.
 */
export async function restorePackedFile(target: BackupTarget, body: ManifestBody, packed: PackedFile, identities: readonly string[], dest: string, openers?: OpenerPool): Promise<void> {
  await writePieces(dest, (sink) => restorePacked(target, body, packed, identities, sink, openers?.file(packed.size) ?? inlineOpener()));
}

/**
 * Creates `dest` (must not exist) and writes what `produce` hands its sink, positioned,
 * WRITES_IN_FLIGHT at once.
 */
async function writePieces(dest: string, produce: (sink: PieceSink) => Promise<void>): Promise<void> {
  const fh = await open(dest, 'wx', 0o600);
  const inFlight = new Set<Promise<void>>();
  let failed: unknown = null;
  try {
    await produce(async (plaintext, offset, written) => {
      if (failed) throw failed;
      const w: Promise<void> = writeAll(fh, [plaintext], offset).then(
        () => {
          inFlight.delete(w);
          written?.();
        },
        (err: unknown) => {
          inFlight.delete(w);
          failed ??= err;
        },
      );
      inFlight.add(w);
      while (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    });
    await Promise.all(inFlight);
    if (failed) throw failed;
  } finally {
    await Promise.allSettled(inFlight);
    await fh.close();
  }
}

/** writev at `position` until every byte is written (a short write continues where it stopped). */
async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  for (;;) {
    const total = rest.reduce((n, b) => n + b.length, 0);
    if (total === 0) return;
    const { bytesWritten } = await fh.writev(rest, at);
    if (bytesWritten === total) return;
    at += bytesWritten;
    let skip = bytesWritten;
    const left: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        left.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = left;
  }
}
