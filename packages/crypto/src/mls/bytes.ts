/** Small byte helpers shared by this folder; no dependency on Node's Buffer (runs in browsers). */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Throws on invalid UTF-8 rather than inserting U+FFFD. */
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** WebCrypto's typings want an ArrayBuffer-backed view; copy only when needed. */
export function asBufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

export function u16(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
}

export function zeroize(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}

/**
 * Length-prefixed binary writer and reader for our own at-rest formats. Fields read back are
 * copies, so the decrypted buffer they came from can be zeroed afterwards.
 */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  u8(n: number): this {
    this.parts.push(new Uint8Array([n & 0xff]));
    return this;
  }

  u16(n: number): this {
    this.parts.push(u16(n));
    return this;
  }

  u64(n: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n);
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    this.parts.push(len, b);
    return this;
  }

  string(s: string): this {
    return this.bytes(utf8(s));
  }

  finish(): Uint8Array<ArrayBuffer> {
    return concatBytes(...this.parts);
  }
}

export class ByteReader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new RangeError('truncated input');
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u16(): number {
    this.need(2);
    const n = this.view.getUint16(this.at);
    this.at += 2;
    return n;
  }

  u64(): bigint {
    this.need(8);
    const n = this.view.getBigUint64(this.at);
    this.at += 8;
    return n;
  }

  bytes(): Uint8Array {
    this.need(4);
    const len = this.view.getUint32(this.at);
    this.at += 4;
    this.need(len);
    const out = this.buf.slice(this.at, this.at + len);
    this.at += len;
    return out;
  }

  string(): string {
    return fromUtf8(this.bytes());
  }

  end(): void {
    if (this.at !== this.buf.length) throw new RangeError('trailing bytes');
  }
}
