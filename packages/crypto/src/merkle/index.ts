export { CompactRange } from './compact-range.js';
export { consistencyProof, verifyConsistency } from './consistency.js';
export { HASH_SIZE, emptyRoot, hashChildren, hashLeaf, useSha256 } from './hash.js';
export type { Sha256 } from './hash.js';
export type { HashReader, HashReaderOptions, SubtreeRootCache } from './hash-reader.js';
export {
  readCompactRange,
  readConsistencyProof,
  readInclusionProof,
  readRoot,
} from './hash-reader.js';
export { inclusionProof, verifyInclusion } from './inclusion.js';
export { MerkleTreeError } from './merkle-tree-error.js';
export type { MerkleTreeErrorCode } from './merkle-tree-error.js';
export type { NodeReader, TreeNode } from './node-reader.js';
export { rangeNodes, readConsistencyProofFromNodes, readInclusionProofFromNodes, readRangeRoots } from './node-reader.js';
export { rootFromLeafHashes, subtreeRoot } from './root.js';
export type { SubtreeRange } from './subtree-range.js';
export { consistencyRanges, inclusionRanges } from './subtree-range.js';
