import { nativeLeafHash } from './leaf-hash.js';

/**
 * The per-entry half of `audit verify`, which needs no other entry: hash each leaf and check the
 * row against its own leaf, a page at a time. (Running this on a worker thread was measured: the
 * copy of each page to the worker cost more CPU than the hashing it took off this thread.)
 */

/** What verification reads of an entry, as an array (no row object per entry). */
export type VerifyRow = [
  idx: number,
  leaf: string,
  leafHash: string,
  at: string,
  eventType: string,
  outcome: string,
  organisationId: string | null,
  actorAccountId: string | null,
  caseId: string | null,
];

export type EntryProblemKind = 'edited' | 'wrong-log' | 'reordered';

export interface CheckedRows {
  /** The recomputed leaf hash of each row, 32 bytes each, in row order. */
  hashes: Uint8Array;
  /** Rows that disagree with their own leaf: [position in the batch, index, kind, message]. */
  problems: [number, number, EntryProblemKind, string][];
}

export function checkRows(logId: string, rows: readonly VerifyRow[]): CheckedRows {
  const hashes = new Uint8Array(rows.length * 32);
  const problems: CheckedRows['problems'] = [];
  for (let i = 0; i < rows.length; i++) {
    const [idx, leafText, storedHash, at, eventType, outcome, organisationId, actorAccountId, caseId] = rows[i]!;
    const leafHash = nativeLeafHash(leafText);
    hashes.set(leafHash, i * 32);
    let leaf: { log?: unknown; index?: unknown; type?: unknown; at?: unknown; outcome?: unknown; organisationId?: unknown; actor?: { accountId?: unknown }; caseId?: unknown } | null;
    try {
      leaf = JSON.parse(leafText) as typeof leaf;
    } catch {
      leaf = null;
    }
    const problem = (kind: EntryProblemKind, message: string) => problems.push([i, idx, kind, message]);
    if (!leaf || typeof leaf !== 'object') problem('edited', `entry ${idx} is not valid JSON`);
    else if (leaf.log !== logId) problem('wrong-log', `entry ${idx} belongs to log ${String(leaf.log)}`);
    else if (leaf.index !== idx) problem('reordered', `entry ${idx} holds the record of index ${String(leaf.index)} (rows were reordered)`);
    else if (Buffer.from(leafHash.buffer, leafHash.byteOffset, 32).toString('base64') !== storedHash) problem('edited', `entry ${idx} was edited (its hash does not match its content)`);
    else if (leaf.type !== eventType || leaf.at !== at || leaf.outcome !== outcome || leaf.organisationId !== organisationId || leaf.actor?.accountId !== actorAccountId || leaf.caseId !== caseId) {
      problem('edited', `entry ${idx} has search columns that differ from its signed record`);
    }
  }
  return { hashes, problems };
}
