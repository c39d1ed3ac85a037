import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { makeX25519Header, unwrapX25519Header } from './age-x25519.js';
import { Decrypter, Encrypter, generateHybridIdentity, generateX25519Identity, identityToRecipient, type Recipient } from 'age-encryption';

/**
 * The age file format (C2SP age, https://c2sp.org/age), split where the speed is:
 * - the header (recipient stanzas wrapping a random 16-byte file key, and the header MAC) is
 *   read and made by `age-encryption` (the reference TypeScript implementation, typage) for
 *   hybrid recipients; X25519 headers are made and opened natively by age-x25519.ts (typage
 *   reads whatever that does not open);
 * - the payload is processed here with node:crypto's native ChaCha20-Poly1305, following
 *   age §Payload exactly: a 16-byte nonce, payload key = HKDF-SHA-256(ikm = file key,
 *   salt = nonce, info = "payload"), then the STREAM construction over 64 KiB plaintext chunks
 *   with a 12-byte nonce of an 11-byte big-endian chunk counter and a last-chunk flag byte.
 * Debian's `age` CLI decrypts what we write and we decrypt what it writes (age.test.ts).
 */

export const CHUNK_PLAINTEXT = 64 * 1024;
const TAG = 16;
export const CHUNK_CIPHERTEXT = CHUNK_PLAINTEXT + TAG;
const PAYLOAD_NONCE = 16;
/** age headers are small (a hybrid stanza is ~1.6 KB); refuse to scan further for the MAC line. */
export const MAX_HEADER = 64 * 1024;

export class AgeError extends Error {
  constructor(
    readonly kind: 'header' | 'no-identity' | 'truncated' | 'authentication' | 'trailing-data',
    message: string,
  ) {
    super(message);
    this.name = 'AgeError';
  }
}

export type RecipientKind = 'x25519' | 'mlkem768x25519';

/** Which kind a recipient string is; throws on anything else (tags, plugins, scrypt). */
export function recipientKind(recipient: string): RecipientKind {
  if (/^age1pq1[02-9ac-hj-np-z]+$/.test(recipient)) return 'mlkem768x25519';
  if (/^age1[02-9ac-hj-np-z]{58}$/.test(recipient)) return 'x25519';
  throw new Error(`not an age X25519 (age1…) or mlkem768x25519 (age1pq1…) recipient: ${recipient.slice(0, 12)}…`);
}

/**
 * Checks a recipient set: at least two (an operations key and an offline escrow key), and not a
 * mix of post-quantum and classical ones, which would leave the file only as strong as X25519
 * (age 1.3 refuses the same mix for the same reason).
 */
export function checkRecipients(recipients: readonly string[]): RecipientKind {
  if (recipients.length < 2) throw new Error('backups need at least two age recipients (operations key and offline escrow key)');
  const kinds = new Set(recipients.map(recipientKind));
  if (kinds.size > 1) throw new Error('do not mix post-quantum (age1pq1…) and X25519 (age1…) recipients: the file would be only as strong as X25519');
  if (new Set(recipients).size !== recipients.length) throw new Error('duplicate recipient');
  return [...kinds][0]!;
}

export async function generateIdentity(kind: RecipientKind): Promise<{ identity: string; recipient: string }> {
  const identity = kind === 'x25519' ? await generateX25519Identity() : await generateHybridIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** Identities from an age identity file: one `AGE-SECRET-KEY-…` per line, `#` comments. */
export function parseIdentityFile(text: string): string[] {
  const identities = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const id of identities) {
    if (!id.startsWith('AGE-SECRET-KEY-1') && !id.startsWith('AGE-SECRET-KEY-PQ-1')) throw new Error('identity file holds a line that is not an age identity');
  }
  if (identities.length === 0) throw new Error('identity file holds no age identity');
  return identities;
}

/**
 * Makes an age header for `recipients` and returns it with its file key. typage's Encrypter
 * draws the file key and passes it to each recipient's wrapFileKey; a recipient of our own that
 * adds no stanza keeps a copy. Encrypting an empty file gives header || nonce || one empty final
 * chunk (16-byte tag); the header is everything before that.
 */
export async function makeHeader(recipients: readonly string[]): Promise<{ header: Buffer; fileKey: Buffer }> {
  // X25519 recipients: made natively (age-x25519.ts), ~0.1 ms instead of several ms a header.
  if (checkRecipients(recipients) === 'x25519') return makeX25519Header(recipients);
  return makeHeaderWithTypage(recipients);
}

/** The same with typage (hybrid recipients; tests compare it with the native X25519 path). */
export async function makeHeaderWithTypage(recipients: readonly string[]): Promise<{ header: Buffer; fileKey: Buffer }> {
  checkRecipients(recipients);
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  let fileKey: Uint8Array | null = null;
  const keeper: Recipient = {
    wrapFileKey(key) {
      fileKey = key.slice();
      return [];
    },
  };
  e.addRecipient(keeper);
  const empty = await e.encrypt(new Uint8Array(0));
  if (!fileKey) throw new Error('age-encryption did not draw a file key');
  return { header: Buffer.from(empty.subarray(0, empty.length - PAYLOAD_NONCE - TAG)), fileKey: Buffer.from(fileKey) };
}

/** Length of the header at the start of `data` (through the `--- MAC` line), or -1 if not all there yet. */
export function headerLength(data: Buffer): number {
  const end = data.indexOf('\n---', 0, 'latin1');
  if (end < 0) {
    if (data.length > MAX_HEADER) throw new AgeError('header', 'no age header found');
    return -1;
  }
  const nl = data.indexOf(0x0a, end + 1);
  if (nl < 0) return data.length > MAX_HEADER ? fail() : -1;
  return nl + 1;
  function fail(): never {
    throw new AgeError('header', 'age header is too long');
  }
}

export async function unwrapFileKey(header: Buffer, identities: readonly string[]): Promise<Buffer> {
  if (!header.subarray(0, 22).equals(Buffer.from('age-encryption.org/v1\n'))) throw new AgeError('header', 'not an age file (no age-encryption.org/v1 header)');
  // X25519 stanzas and an X25519 identity: opened natively (age-x25519.ts); anything else, or any
  // failure, is read by typage below.
  const native = unwrapX25519Header(header, identities);
  if (native) return native;
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return Buffer.from(await d.decryptHeader(header));
  } catch (err) {
    const msg = (err as Error).message;
    if (/no identity matched/.test(msg)) throw new AgeError('no-identity', 'none of the given identities is a recipient of this file (wrong identity?)');
    throw new AgeError('header', `age header does not verify: ${msg}`);
  }
}

export function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

export function chunkNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  // 11-byte big-endian counter; 2^53 chunks is far beyond any file we make.
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Encrypts a byte stream as the payload of an age file (STREAM, age §Payload). Call `push` with
 * any amount of plaintext; each sealed ciphertext chunk goes to `emit`. A full chunk is held back
 * until more plaintext arrives, because the last chunk carries the last-chunk flag.
 */
export class PayloadSealer {
  readonly nonce = randomBytes(PAYLOAD_NONCE);
  private readonly key: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private counter = 0;

  constructor(fileKey: Buffer, private readonly emit: (ciphertextChunk: Buffer) => void) {
    this.key = payloadKey(fileKey, this.nonce);
  }

  push(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      // Keep at most one full chunk pending; seal it once we know it is not the last.
      if (this.pendingBytes === CHUNK_PLAINTEXT) this.seal(false);
      const take = Math.min(CHUNK_PLAINTEXT - this.pendingBytes, data.length - offset);
      this.pending.push(data.subarray(offset, offset + take));
      this.pendingBytes += take;
      offset += take;
    }
  }

  /** Seals the final chunk (empty only if the whole payload is empty, as the spec requires). */
  finish(): void {
    this.seal(true);
    this.key.fill(0);
  }

  private seal(last: boolean): void {
    const plaintext = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const c = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter++, last), { authTagLength: TAG });
    this.emit(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Opens one ciphertext chunk; throws AgeError('authentication') if it was altered, moved or cut. */
export function openChunk(key: Buffer, counter: number, last: boolean, chunk: Buffer): Buffer {
  if (chunk.length < TAG) throw new AgeError('truncated', `chunk ${counter} is shorter than its tag`);
  const d = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter, last), { authTagLength: TAG });
  d.setAuthTag(chunk.subarray(chunk.length - TAG));
  try {
    const plaintext = d.update(chunk.subarray(0, chunk.length - TAG));
    const rest = d.final();
    // A stream cipher: final() holds nothing, so skip the copy a concat would make.
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    throw new AgeError('authentication', `chunk ${counter} does not authenticate (altered, reordered or truncated data)`);
  }
}

/**
 * Decrypts an age payload (the bytes after the header) chunk by chunk. Chunks go through
 * `chunk(ciphertext)`, which opens them in order; `end()` opens the last one. Splitting the
 * input into chunks is the caller's: every chunk but the last is CHUNK_CIPHERTEXT bytes.
 */
export class PayloadOpener {
  private key: Buffer | null = null;
  private counter = 0;
  private pending: Buffer | null = null;

  constructor(
    private readonly fileKey: Buffer,
    private readonly emit: (plaintext: Buffer) => void,
  ) {}

  /** The 16-byte payload nonce, before any chunk. */
  start(nonce: Buffer): void {
    if (nonce.length !== PAYLOAD_NONCE) throw new AgeError('truncated', 'the file ends inside the payload nonce');
    this.key = payloadKey(this.fileKey, nonce);
  }

  chunk(ciphertext: Buffer): void {
    if (!this.key) throw new Error('start() first');
    if (this.pending) this.emit(openChunk(this.key, this.counter++, false, this.pending));
    this.pending = ciphertext;
  }

  end(): void {
    if (!this.key) throw new AgeError('truncated', 'the file ends before its payload');
    if (!this.pending) throw new AgeError('truncated', 'the payload has no chunk');
    const plaintext = openChunk(this.key, this.counter, true, this.pending);
    // age §Payload: the last chunk may be empty only if the whole payload is.
    if (plaintext.length === 0 && this.counter > 0) throw new AgeError('truncated', 'empty last chunk after full chunks');
    this.emit(plaintext);
    this.key.fill(0);
    this.fileKey.fill(0);
  }
}

/** Splits a byte stream into age's unit of work: header, nonce, ciphertext chunks. */
export class AgeFramer {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'header' | 'nonce' | 'chunks' = 'header';

  constructor(
    private readonly on: {
      header(header: Buffer): void | Promise<void>;
      nonce(nonce: Buffer): void;
      /** Every ciphertext chunk, in order; the last one is the one given before `end`. */
      chunk(chunk: Buffer): void;
    },
  ) {}

  async push(data: Buffer): Promise<void> {
    if (this.state === 'chunks' && this.buf.length > 0 && this.buf.length + data.length > CHUNK_CIPHERTEXT) {
      // Complete the pending chunk from the head of the new data (more follows, so it is not the
      // last one) instead of copying the whole read onto the leftover.
      const need = CHUNK_CIPHERTEXT - this.buf.length;
      this.on.chunk(need === 0 ? this.buf : Buffer.concat([this.buf, data.subarray(0, need)]));
      this.buf = Buffer.alloc(0);
      data = data.subarray(need);
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    if (this.state === 'header') {
      const len = headerLength(this.buf);
      if (len < 0) return;
      await this.on.header(this.buf.subarray(0, len));
      this.buf = this.buf.subarray(len);
      this.state = 'nonce';
    }
    if (this.state === 'nonce') {
      if (this.buf.length < PAYLOAD_NONCE) return;
      this.on.nonce(this.buf.subarray(0, PAYLOAD_NONCE));
      this.buf = this.buf.subarray(PAYLOAD_NONCE);
      this.state = 'chunks';
    }
    // Hand on a full chunk only when more follows: a full chunk at the end is the last one.
    // Views, not copies: a view keeps at most one read buffer alive, and chunks are consumed at once.
    while (this.buf.length > CHUNK_CIPHERTEXT) {
      this.on.chunk(this.buf.subarray(0, CHUNK_CIPHERTEXT));
      this.buf = this.buf.subarray(CHUNK_CIPHERTEXT);
    }
  }

  /** Call at end of input: hands on the last chunk. */
  end(): void {
    if (this.state === 'header') throw new AgeError('truncated', 'the file ends inside the age header');
    if (this.state === 'nonce') throw new AgeError('truncated', 'the file ends inside the payload nonce');
    if (this.buf.length === 0) throw new AgeError('truncated', 'the file ends before its last chunk');
    this.on.chunk(Buffer.from(this.buf));
    this.buf = Buffer.alloc(0);
  }
}

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Decrypts a whole age file from a stream (any X25519 or hybrid recipient file, e.g. from `age -e`). */
export async function decryptAge(source: AsyncIterable<Buffer>, identities: readonly string[], sink: (plaintext: Buffer) => Promise<void> | void): Promise<void> {
  let opener: PayloadOpener | null = null;
  let out: Buffer[] = [];
  const framer = new AgeFramer({
    header: async (header) => {
      opener = new PayloadOpener(await unwrapFileKey(header, identities), (p) => out.push(p));
    },
    nonce: (nonce) => opener!.start(nonce),
    chunk: (chunk) => opener!.chunk(chunk),
  });
  for await (const data of source) {
    await framer.push(data);
    for (const p of out.splice(0)) await sink(p);
  }
  framer.end();
  (opener as PayloadOpener | null)?.end();
  for (const p of out.splice(0)) await sink(p);
}

/** Encrypts a whole stream as an age file, handing the file's bytes to `sink` in order. */
export async function encryptAge(source: AsyncIterable<Buffer>, recipients: readonly string[], sink: (bytes: Buffer) => Promise<void> | void): Promise<void> {
  const { header, fileKey } = await makeHeader(recipients);
  const out: Buffer[] = [];
  const sealer = new PayloadSealer(fileKey, (c) => out.push(c));
  fileKey.fill(0);
  await sink(Buffer.concat([header, sealer.nonce]));
  for await (const data of source) {
    sealer.push(data);
    for (const c of out.splice(0)) await sink(c);
  }
  sealer.finish();
  for (const c of out.splice(0)) await sink(c);
}
