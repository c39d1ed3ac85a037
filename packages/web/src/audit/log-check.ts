import { encodeAuditLeaf, type AuditListedEntry, type AuditLogInfo } from '@consilium/protocol';
import { hashLeaf, verifyConsistency, verifyInclusion } from '@consilium/crypto/merkle';
import { formatKeyId, openCheckpoint, parseVerifierKey } from '@consilium/crypto/note';
import { getAuditLog, getConsistencyProof, getInclusionProof } from '../api/audit';
import { readPin, writePin, type PinnedCheckpoint } from './checkpoint-pin';

/** A checkpoint whose signature this browser checked, and which extends everything it saw before. */
export interface TrustedCheckpoint {
  logId: string;
  origin: string;
  verifierKey: string;
  size: number;
  rootHash: Uint8Array;
  note: string;
  /** When this browser fetched and checked it (ISO instant); notes carry no time of their own. */
  checkedAt: string;
}

/**
 * What the browser concluded about the server's latest checkpoint. Only `trusted` lets anything
 * else (an inclusion proof) be checked against it; the others are for people to act on.
 */
export type LogAssessment =
  | { kind: 'no-checkpoint'; info: AuditLogInfo }
  | { kind: 'trusted'; info: AuditLogInfo; checkpoint: TrustedCheckpoint; previous: PinnedCheckpoint | null }
  | { kind: 'invalid-checkpoint'; info: AuditLogInfo; reason: string }
  | { kind: 'key-changed'; info: AuditLogInfo; pinned: PinnedCheckpoint }
  | { kind: 'history-changed'; info: AuditLogInfo; pinned: PinnedCheckpoint; presented: { size: number; note: string } };

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return window.btoa(binary);
}

/** Decodes standard base64; anything malformed decodes to no bytes, which no verifier accepts. */
export function decodeBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(window.atob(text), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}

/** `name+keyid` of a verifier key string, or the string itself when it does not parse. */
export function keyLabelOf(verifierKey: string): string {
  try {
    const verifier = parseVerifierKey(verifierKey);
    return `${verifier.name}+${formatKeyId(verifier.keyId)}`;
  } catch {
    return verifierKey;
  }
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Checks the server's latest checkpoint in the browser, trusting the key and origin on first use:
 * the signed note must verify with the log's key, the key and origin must be the ones pinned, and
 * the new tree must provably extend the pinned one (RFC 9162 consistency proof). Network and API
 * errors reject; a checkpoint that fails a check resolves with why, and leaves the pin as it was.
 */
export async function assessLog(
  info: AuditLogInfo,
  pinned: PinnedCheckpoint | null,
  consistencyProof: (from: number, to: number) => Promise<{ from: number; to: number; proof: string[] }> = getConsistencyProof,
): Promise<LogAssessment> {
  if (pinned && (pinned.verifierKey !== info.verifierKey || pinned.origin !== info.origin)) return { kind: 'key-changed', info, pinned };
  if (info.checkpoint === null) return { kind: 'no-checkpoint', info };

  let opened: ReturnType<typeof openCheckpoint>['checkpoint'];
  try {
    opened = openCheckpoint(info.checkpoint, [parseVerifierKey(info.verifierKey)], info.origin).checkpoint;
  } catch (error) {
    return { kind: 'invalid-checkpoint', info, reason: reasonOf(error) };
  }

  const checkpoint: TrustedCheckpoint = {
    logId: info.logId,
    origin: info.origin,
    verifierKey: info.verifierKey,
    size: opened.size,
    rootHash: opened.rootHash,
    note: info.checkpoint,
    checkedAt: new Date().toISOString(),
  };
  const presented = { size: opened.size, note: info.checkpoint };

  if (pinned) {
    const pinnedRoot = decodeBase64(pinned.rootHash);
    let isExtension: boolean;
    if (opened.size < pinned.size) isExtension = false;
    else if (opened.size === pinned.size) isExtension = verifyConsistency(pinned.size, opened.size, [], pinnedRoot, opened.rootHash);
    // RFC 9162 has no proof from the empty tree: every tree extends it.
    else if (pinned.size === 0) isExtension = true;
    else {
      const proof = await consistencyProof(pinned.size, opened.size);
      isExtension =
        proof.from === pinned.size &&
        proof.to === opened.size &&
        verifyConsistency(pinned.size, opened.size, proof.proof.map(decodeBase64), pinnedRoot, opened.rootHash);
    }
    if (!isExtension) return { kind: 'history-changed', info, pinned, presented };
  }
  return { kind: 'trusted', info, checkpoint, previous: pinned };
}

/** Fetches the log's latest checkpoint, assesses it against this browser's pin, and moves the pin forward when trusted. */
export async function checkLog(): Promise<LogAssessment> {
  const info = await getAuditLog();
  const assessment = await assessLog(info, readPin(info.logId));
  pinIfTrusted(assessment);
  return assessment;
}

/** Moves the pin of a log forward to a checkpoint that was just assessed as trusted. */
export function pinIfTrusted(assessment: LogAssessment): void {
  if (assessment.kind === 'trusted') {
    const { checkpoint, previous } = assessment;
    // Keep the time a checkpoint was first seen, so "consistent with what you saw on <date>" stays true.
    const seenAt = previous && previous.size === checkpoint.size ? previous.seenAt : checkpoint.checkedAt;
    writePin({
      logId: checkpoint.logId,
      origin: checkpoint.origin,
      verifierKey: checkpoint.verifierKey,
      size: checkpoint.size,
      rootHash: encodeBase64(checkpoint.rootHash),
      note: checkpoint.note,
      seenAt,
    });
  }
}

export type InclusionCheck =
  | { included: true; index: number; size: number; leafHash: string }
  | { included: false; index: number; size: number; reason: string };

/**
 * Whether an entry is a leaf of the tree under `checkpoint`, checked in the browser from the entry's
 * own text: the fields shown must re-encode (encodeAuditLeaf, the server's encoder) to the leaf text
 * served with them, the browser hashes that text itself (RFC 9162 leaf hash), and the inclusion proof
 * must lead from that hash to the signed root. So the check covers the content shown, not only the index.
 */
export async function checkInclusion(entry: AuditListedEntry, checkpoint: TrustedCheckpoint): Promise<InclusionCheck> {
  const { index } = entry;
  const { size, rootHash } = checkpoint;
  if (index >= size) return { included: false, index, size, reason: `the checkpoint covers entries 0 to ${size - 1} only` };
  const { leaf, index: _index, ...event } = entry;
  if (encodeAuditLeaf(checkpoint.logId, index, event) !== leaf) {
    return { included: false, index, size, reason: 'the entry shown is not the text recorded in the log' };
  }
  const leafHash = hashLeaf(new TextEncoder().encode(leaf));
  const proof = await getInclusionProof(index, size);
  if (proof.index !== index || proof.size !== size) {
    return { included: false, index, size, reason: `the server answered for entry ${proof.index} of ${proof.size}, not ${index} of ${size}` };
  }
  const included = verifyInclusion(leafHash, index, size, proof.proof.map(decodeBase64), rootHash);
  return included
    ? { included: true, index, size, leafHash: encodeBase64(leafHash) }
    : { included: false, index, size, reason: 'the proof does not lead from the hash of this entry to the signed root hash' };
}
