import { createHash, randomBytes } from 'node:crypto';
import { AgeError, AgeFramer, CHUNK_CIPHERTEXT, PayloadOpener, PayloadSealer, makeHeader, unwrapFileKey } from './age.js';
import type { ManifestFile } from './manifest.js';
import type { BackupTarget, ObjectWriter } from './target.js';

export type SealedObject = Pick<ManifestFile, 'object' | 'size' | 'sha256' | 'encryptedSize' | 'headerSha256' | 'chunks'>;

export const newObjectName = (): string => randomBytes(16).toString('hex');

/**
 * Writes one age object on the target, plaintext pushed piece by piece, hashing each ciphertext
 * chunk as it is written. Memory stays bounded by one chunk plus the writer's buffer. A piece of
 * exactly 64 KiB becomes exactly one STREAM chunk (packs rely on it: block i is chunk i).
 */
export class ObjectSealer {
  readonly object = newObjectName();
  private readonly plainHash = createHash('sha256');
  private readonly chunks: string[] = [];
  private size = 0;
  private encryptedSize = 0;
  private queue: Buffer[] = [];
  private sealer!: PayloadSealer;
  private writer!: ObjectWriter;
  private headerSha256 = '';

  private constructor() {}

  static async open(target: BackupTarget, recipients: readonly string[], options: { deferSync?: boolean } = {}): Promise<ObjectSealer> {
    const s = new ObjectSealer();
    s.writer = await target.createObject(s.object, options);
    try {
      const { header, fileKey } = await makeHeader(recipients);
      s.sealer = new PayloadSealer(fileKey, (chunk) => {
        s.chunks.push(createHash('sha256').update(chunk).digest('hex'));
        s.queue.push(chunk);
      });
      fileKey.fill(0);
      const prefix = Buffer.concat([header, s.sealer.nonce]);
      s.headerSha256 = createHash('sha256').update(prefix).digest('hex');
      await s.writer.write(prefix);
      s.encryptedSize += prefix.length;
    } catch (err) {
      await s.writer.abort().catch(() => {});
      throw err;
    }
    return s;
  }

  get plaintextSize(): number {
    return this.size;
  }

  async write(data: Buffer): Promise<void> {
    this.plainHash.update(data);
    this.size += data.length;
    this.sealer.push(data);
    await this.flush();
  }

  async finish(): Promise<SealedObject> {
    this.sealer.finish();
    await this.flush();
    await this.writer.commit();
    return { object: this.object, size: this.size, sha256: this.plainHash.digest('hex'), encryptedSize: this.encryptedSize, headerSha256: this.headerSha256, chunks: this.chunks };
  }

  async abort(): Promise<void> {
    await this.writer.abort().catch(() => {});
  }

  private async flush(): Promise<void> {
    const out = this.queue;
    this.queue = [];
    for (const c of out) {
      await this.writer.write(c);
      this.encryptedSize += c.length;
    }
  }
}

/**
 * Encrypts a stream into a new age object on the target. On any error the partial object is
 * discarded. `deferSync`: see BackupTarget.createObject.
 */
export async function sealObject(target: BackupTarget, recipients: readonly string[], source: AsyncIterable<Buffer | string> | Iterable<Buffer>, options: { deferSync?: boolean } = {}): Promise<SealedObject> {
  const sealer = await ObjectSealer.open(target, recipients, options);
  try {
    for await (const piece of source) await sealer.write(typeof piece === 'string' ? Buffer.from(piece) : piece);
    return await sealer.finish();
  } catch (err) {
    await sealer.abort();
    throw err;
  }
}

export interface ObjectProblem {
  kind: 'missing' | 'size' | 'header' | 'chunk' | 'truncated' | 'extra-data' | 'decrypt' | 'plaintext';
  message: string;
}

/**
 * Reads an object and checks it against its manifest entry. Without identities: every chunk hash
 * (a flipped bit, a cut, a swapped chunk, a replaced object all change one). With identities: also
 * decrypts every chunk (the AEAD tags) and checks the plaintext size and SHA-256; `sink`, if given,
 * receives the plaintext as it is authenticated (restore).
 */
export async function checkObject(
  target: BackupTarget,
  file: Pick<ManifestFile, 'object' | 'path' | 'size' | 'sha256' | 'encryptedSize' | 'headerSha256' | 'chunks'>,
  options: {
    identities?: readonly string[];
    sink?: (plaintext: Buffer) => Promise<void>;
    /**
     * Restore: do not hash each ciphertext chunk. With the identity it adds nothing: the header
     * (and so the file key) is pinned by its hash in the manifest, each chunk is authenticated by
     * ChaCha20-Poly1305 under that key, and the plaintext is checked against the manifest's SHA-256.
     * Verify without a key still hashes every chunk.
     */
    skipChunkHashes?: boolean;
  } = {},
): Promise<ObjectProblem[]> {
  const stored = await target.objectSize(file.object);
  if (stored === null) return [{ kind: 'missing', message: `${file.path}: object ${file.object} is missing` }];
  const problems: ObjectProblem[] = [];
  if (stored !== file.encryptedSize) problems.push({ kind: stored < file.encryptedSize ? 'truncated' : 'size', message: `${file.path}: object is ${stored} bytes, the manifest says ${file.encryptedSize}` });

  const decrypting = options.identities && options.identities.length > 0;
  const plainHash = createHash('sha256');
  let plainSize = 0;
  let pendingPlain: Buffer[] = [];
  let opener: PayloadOpener | null = null;
  let prefixHash = createHash('sha256');
  let index = 0;
  let chunkMismatch = 0;
  const framer = new AgeFramer({
    header: async (header) => {
      prefixHash.update(header);
      if (decrypting) {
        const key = await unwrapFileKey(header, options.identities!);
        opener = new PayloadOpener(key, (p) => {
          plainHash.update(p);
          plainSize += p.length;
          pendingPlain.push(p);
        });
      }
    },
    nonce: (nonce) => {
      prefixHash.update(nonce);
      const got = prefixHash.digest('hex');
      if (got !== file.headerSha256) problems.push({ kind: 'header', message: `${file.path}: the age header differs from the manifest's` });
      opener?.start(nonce);
    },
    chunk: (chunk) => {
      const expected = file.chunks[index];
      const skip = decrypting && options.skipChunkHashes;
      const got = skip ? expected : createHash('sha256').update(chunk).digest('hex');
      if (expected === undefined) problems.push({ kind: 'extra-data', message: `${file.path}: chunk ${index} is not in the manifest` });
      else if (got !== expected) {
        const elsewhere = file.chunks.indexOf(got ?? '');
        chunkMismatch++;
        if (chunkMismatch <= 5) {
          problems.push({
            kind: 'chunk',
            message: elsewhere >= 0 ? `${file.path}: chunk ${index} holds the bytes of chunk ${elsewhere} (reordered)` : `${file.path}: chunk ${index} does not match its hash (altered${chunk.length < CHUNK_CIPHERTEXT ? ' or truncated' : ''})`,
          });
        }
      }
      index++;
      opener?.chunk(chunk);
    },
  });
  try {
    for await (const data of target.readObject(file.object)) {
      await framer.push(data);
      for (const p of pendingPlain.splice(0)) await options.sink?.(p);
    }
    framer.end();
    if (opener) (opener as PayloadOpener).end();
    for (const p of pendingPlain.splice(0)) await options.sink?.(p);
  } catch (err) {
    if (err instanceof AgeError) {
      const kind = err.kind === 'truncated' ? 'truncated' : err.kind === 'header' ? 'header' : 'decrypt';
      problems.push({ kind, message: `${file.path}: ${err.message}` });
      return problems;
    }
    throw err;
  }
  if (chunkMismatch > 5) problems.push({ kind: 'chunk', message: `${file.path}: ${chunkMismatch - 5} more chunks do not match` });
  if (index < file.chunks.length) problems.push({ kind: 'truncated', message: `${file.path}: ${file.chunks.length - index} chunks are missing at the end` });
  if (decrypting && problems.length === 0) {
    if (plainSize !== file.size || plainHash.digest('hex') !== file.sha256) problems.push({ kind: 'plaintext', message: `${file.path}: decrypted content differs from the manifest's size or SHA-256` });
  }
  return problems;
}
