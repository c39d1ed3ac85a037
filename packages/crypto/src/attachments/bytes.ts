/** Anything a file's bytes can come from, in the browser (File, fetch body) and in Node. */
export type ByteSource = Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function isReadableStream(source: unknown): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream | null)?.getReader === 'function';
}

/** The source as an async sequence of byte arrays (ReadableStream read through its reader, which every browser has). */
export async function* bytesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    yield* bytesOf(source.stream());
    return;
  }
  if (isReadableStream(source)) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * Cuts a byte sequence into pieces of exactly `size` bytes, and a final piece of 0..size bytes
 * marked `last`. A full piece is only let go once more bytes follow it, so the final piece is
 * known to be final (STREAM needs that to set its last-chunk flag). The final piece is empty
 * only when the whole input is.
 */
export async function* pieces(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ bytes: Uint8Array<ArrayBuffer>; last: boolean }> {
  const buffer = new Uint8Array(size * 2);
  let filled = 0;
  for await (const input of source) {
    let offset = 0;
    while (offset < input.length) {
      if (filled === buffer.length) {
        // Holding more than one piece: the first one is not the last.
        yield { bytes: buffer.slice(0, size), last: false };
        buffer.copyWithin(0, size, filled);
        filled -= size;
      }
      const n = Math.min(input.length - offset, buffer.length - filled);
      buffer.set(input.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
    }
    if (filled > size) {
      yield { bytes: buffer.slice(0, size), last: false };
      buffer.copyWithin(0, size, filled);
      filled -= size;
    }
  }
  yield { bytes: buffer.slice(0, filled), last: true };
}

/** Unpadded base64url (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
