import * as nodeCrypto from 'node:crypto';

/**
 * SHA-256 on node:crypto (OpenSSL) for the log's hot paths. Hash formats: RFC 9162 §2.1.1.
 */
type OneShot = (algorithm: string, data: Uint8Array | string, outputEncoding: 'buffer') => Buffer;
// crypto.hash (Node >= 20.12) skips the Hash object; older Node falls back to createHash.
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

const view = (digest: Buffer) => new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);

export function nativeSha256(data: Uint8Array): Uint8Array {
  // A plain Uint8Array view: Buffer's slice() shares memory, and callers copy hashes with slice().
  return view(oneShot ? oneShot('sha256', data, 'buffer') : nodeCrypto.createHash('sha256').update(data).digest());
}

/**
 * Leaf hash, SHA-256(0x00 || leaf), of a leaf held as a string. crypto.hash takes the string itself
 * and encodes it as UTF-8 in C++ ("\u0000" is the single byte 0x00), so no Buffer is allocated
 * here per leaf: verification hashes every leaf of the log through this.
 */
export function nativeLeafHash(leaf: string): Uint8Array {
  if (oneShot) return view(oneShot('sha256', '\u0000' + leaf, 'buffer'));
  return view(nodeCrypto.createHash('sha256').update(new Uint8Array([0])).update(leaf, 'utf8').digest());
}

/** The leaf hash as lowercase hex (a short string, not a Buffer: verification makes one per entry). */
export function nativeLeafHashHex(leaf: string): string {
  if (oneShot) return (oneShot as unknown as (a: string, d: string, e: 'hex') => string)('sha256', '\u0000' + leaf, 'hex');
  return nodeCrypto.createHash('sha256').update(new Uint8Array([0])).update(leaf, 'utf8').digest('hex');
}

/** One input buffer for every interior node hash of a thread: hashing is synchronous. */
const nodeInput = Buffer.alloc(65);
nodeInput[0] = 0x01;

/** Interior node, SHA-256(0x01 || left || right), without allocating its input. */
export function nativeNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return nativeSha256(nodeInput);
}

/**
 * Interior node of two adjacent hashes, SHA-256(0x01 || src[offset, offset + 64)), written to
 * `dst` at `dstOffset`: how tiles hash a row, whose hashes sit side by side in one buffer, without
 * a view per hash.
 */
export function nativeNodeHashInto(src: Buffer, offset: number, dst: Buffer, dstOffset: number): void {
  src.copy(nodeInput, 1, offset, offset + 64);
  const digest = oneShot ? oneShot('sha256', nodeInput, 'buffer') : nodeCrypto.createHash('sha256').update(nodeInput).digest();
  digest.copy(dst, dstOffset);
}
