import { nativeLeafHashHex } from './leaf-hash.js';
import { LEAF_VERSION } from './leaf.js';

/**
 * The per-entry half of `audit verify`, which needs no other entry: hash each leaf and check the
 * row against its own leaf, a page at a time. (Running this on a worker thread was measured: the
 * copy of each page to the worker cost more CPU than the hashing it took off this thread.)
 */

/** What verification reads of an entry, as an array (no row object per entry). */
export type VerifyRow = [idx: number, leaf: string, leafHashHex: string];

export type EntryProblemKind = 'edited' | 'wrong-log' | 'reordered';

export interface CheckedRows {
  /** The recomputed leaf hash of each row, 32 bytes each, in row order. */
  hashes: Uint8Array;
  /** Rows that disagree with their own leaf: [position in the batch, index, kind, message]. */
  problems: [number, number, EntryProblemKind, string][];
}

/**
 * Every leaf starts with its version, log and index in this order (protocol's encodeAuditLeaf
 * writes keys in a fixed order), so a string prefix checks that a row sits at the index and in the
 * log its signed leaf names, without parsing the JSON; only a row that fails it is parsed, to say how.
 */
const leafPrefixOf = (logId: string) => {
  const head = `{"v":${LEAF_VERSION},"log":${JSON.stringify(logId)},"index":`;
  return (leaf: string, idx: number) => {
    if (!leaf.startsWith(head)) return false;
    const digits = String(idx);
    return leaf.startsWith(digits, head.length) && leaf.charCodeAt(head.length + digits.length) === 44; // ','
  };
};

function diagnose(logId: string, idx: number, leafText: string): [EntryProblemKind, string] {
  let leaf: { log?: unknown; index?: unknown } | null;
  try {
    leaf = JSON.parse(leafText) as typeof leaf;
  } catch {
    leaf = null;
  }
  if (!leaf || typeof leaf !== 'object') return ['edited', `entry ${idx} is not valid JSON`];
  if (leaf.log !== logId) return ['wrong-log', `entry ${idx} belongs to log ${String(leaf.log)}`];
  if (leaf.index !== idx) return ['reordered', `entry ${idx} holds the record of index ${String(leaf.index)} (rows were reordered)`];
  return ['edited', `entry ${idx} is not in the canonical leaf form`];
}

export function checkRows(logId: string, rows: readonly VerifyRow[]): CheckedRows {
  const hashes = new Uint8Array(rows.length * 32);
  const problems: CheckedRows['problems'] = [];
  const hasPrefix = leafPrefixOf(logId);
  // One Buffer over the batch's hashes: each hex digest is decoded into its slot, no Buffer per entry.
  const out = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  for (let i = 0; i < rows.length; i++) {
    const [idx, leafText, storedHex] = rows[i]!;
    const hex = nativeLeafHashHex(leafText);
    out.write(hex, i * 32, 32, 'hex');
    if (!hasPrefix(leafText, idx)) {
      const [kind, message] = diagnose(logId, idx, leafText);
      problems.push([i, idx, kind, message]);
    } else if (hex !== storedHex) {
      problems.push([i, idx, 'edited', `entry ${idx} was edited (its hash does not match its content)`]);
    }
  }
  return { hashes, problems };
}
