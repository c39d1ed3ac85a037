import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { MerkleTreeError } from './merkle-tree-error.js';

/** SHA-256 output size: every leaf hash, node hash and root is this long. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** A SHA-256 implementation: bytes in, the 32-byte digest out (a fresh array each call). */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let sha256: Sha256 = nobleSha256;

/** FIPS 180-4 example "abc", to refuse an injected function that is not SHA-256. */
const ABC = new Uint8Array([0x61, 0x62, 0x63]);
const ABC_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/**
 * Replaces the SHA-256 implementation the tree hashes with, e.g. node:crypto's native one on a
 * server (several times faster than @noble/hashes on leaves of a few hundred bytes). Same
 * function, another implementation: the browser keeps @noble/hashes. Throws, and keeps the
 * current one, unless `implementation` gives the FIPS 180-4 digest of "abc".
 */
export function useSha256(implementation: Sha256): void {
  const digest = implementation(ABC);
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (!(digest instanceof Uint8Array) || hex !== ABC_DIGEST) {
    throw new MerkleTreeError('MALFORMED_HASH', 'the injected SHA-256 does not compute SHA-256');
  }
  sha256 = implementation;
}

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

/** RFC 9162 §2.1.1: HASH(0x01 || left || right), the parent of two subtree roots. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** RFC 9162 §2.1.1: the root of the empty tree, MTH({}) = HASH(). A fresh copy each call. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** Constant-time comparison is not needed: everything compared here is public. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

export function assertHash(value: Uint8Array, what: string): void {
  if (!isHash(value)) {
    throw new MerkleTreeError('MALFORMED_HASH', `${what} must be ${HASH_SIZE} bytes`);
  }
}
