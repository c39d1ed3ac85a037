/**
 * Why a Merkle tree operation refused its input. Only the generators and the compact range
 * throw; the verifiers answer `false` for every malformed or wrong proof and never throw.
 */
export type MerkleTreeErrorCode =
  /** An index or size is negative, not an integer, beyond 2^53 - 1, or beyond the tree. */
  | 'OUT_OF_RANGE'
  /** A hash is not 32 bytes. */
  | 'MALFORMED_HASH'
  /** A `HashReader` returned a different number of hashes than asked for. */
  | 'READER_MISMATCH';

export class MerkleTreeError extends Error {
  override readonly name = 'MerkleTreeError';
  constructor(
    readonly code: MerkleTreeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
