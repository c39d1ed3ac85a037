import { useSha256 } from '@consilium/crypto/merkle';
import { nativeNodeHash, nativeSha256 } from './leaf-hash.js';

export { nativeLeafHash, nativeNodeHash, nativeNodeHashInto, nativeSha256 } from './leaf-hash.js';

/**
 * The server hashes its logs with node:crypto (OpenSSL) rather than @noble/hashes: 3-5 times
 * faster on leaves of a few hundred bytes, and the same SHA-256 (useSha256 checks a FIPS 180-4
 * vector before it takes it). Imported for its effect by every module that hashes leaves.
 */
useSha256(nativeSha256);

/**
 * CompactRange's arithmetic (packages/crypto merkle/compact-range.ts) done in place: appends and
 * verification add every leaf once, and the immutable CompactRange copies its roots at each of
 * them. Only for a range owned by one caller, never shared: a failed transaction drops it.
 */
export class RunningTree {
  private constructor(
    public size: number,
    private readonly roots: Uint8Array[],
  ) {}

  static empty(): RunningTree {
    return new RunningTree(0, []);
  }

  /** From a CompactRange's `size` and `hashes()` (checked there). */
  static fromRange(range: { size: number; hashes(): Uint8Array[] }): RunningTree {
    return new RunningTree(range.size, range.hashes());
  }

  append(leafHash: Uint8Array): void {
    let carry = leafHash;
    for (let bits = this.size; bits % 2 === 1; bits = Math.floor(bits / 2)) carry = nativeNodeHash(this.roots.pop()!, carry);
    this.roots.push(carry);
    this.size++;
  }

  /**
   * Appends the root of a perfect subtree of 2^height leaves at once (a full tile, whose interior
   * nodes its writer computed): the same roots as appending its leaves one by one. The size must
   * be a multiple of 2^height, so the subtree is a node of the tree (RFC 9162 §2.1.1).
   */
  appendSubtree(root: Uint8Array, height: number): void {
    const width = 2 ** height;
    if (this.size % width !== 0) throw new Error(`a subtree of ${width} leaves cannot start at ${this.size}`);
    let carry = root;
    for (let bits = this.size / width; bits % 2 === 1; bits = Math.floor(bits / 2)) carry = nativeNodeHash(this.roots.pop()!, carry);
    this.roots.push(carry);
    this.size += width;
  }

  /** The perfect-subtree roots, largest first: what CompactRange.fromHashes takes. */
  hashes(): readonly Uint8Array[] {
    return this.roots;
  }

  /** RFC 9162 MTH of the leaves so far (see CompactRange.root). */
  root(): Uint8Array {
    if (this.roots.length === 0) return nativeSha256(new Uint8Array(0));
    let root = this.roots[this.roots.length - 1]!;
    for (let i = this.roots.length - 2; i >= 0; i--) root = nativeNodeHash(this.roots[i]!, root);
    return root;
  }
}
