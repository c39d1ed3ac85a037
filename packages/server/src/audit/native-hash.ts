import * as nodeCrypto from 'node:crypto';
import { useSha256 } from '@consilium/crypto';

/**
 * The server hashes its logs with node:crypto (OpenSSL) rather than @noble/hashes: 3-5 times
 * faster on leaves of a few hundred bytes, and the same SHA-256 (useSha256 checks a FIPS 180-4
 * vector before it takes it). Imported for its effect by every module that hashes leaves.
 */
type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Buffer;
// crypto.hash (Node >= 20.12) skips the Hash object; older Node falls back to createHash.
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

export function nativeSha256(data: Uint8Array): Uint8Array {
  const digest = oneShot ? oneShot('sha256', data, 'buffer') : nodeCrypto.createHash('sha256').update(data).digest();
  // A plain Uint8Array view: Buffer's slice() shares memory, and callers copy hashes with slice().
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

useSha256(nativeSha256);

/**
 * RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 || leaf), of a leaf held as a string: the UTF-8 bytes are
 * written straight after the prefix, without the intermediate copies of hashLeaf(encode(leaf)).
 */
export function nativeLeafHash(leaf: string): Uint8Array {
  const input = Buffer.allocUnsafe(1 + Buffer.byteLength(leaf, 'utf8'));
  input[0] = 0x00;
  input.write(leaf, 1, 'utf8');
  return nativeSha256(input);
}
