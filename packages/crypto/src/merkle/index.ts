export { CompactRange } from './compact-range.js';
export { consistencyProof, verifyConsistency } from './consistency.js';
export { HASH_SIZE, emptyRoot, hashChildren, hashLeaf } from './hash.js';
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
export { rootFromLeafHashes } from './root.js';
