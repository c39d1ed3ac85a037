import { readConsistencyProofFromNodes, readRangeRoots, inclusionRanges } from '@consilium/crypto/merkle';
import type { AuditEntry, AuditEntryList, AuditListedEntry, AuditLogInfo, AuditSearchQuery, AuditVerifyJob, AuditVerifyStatus, ConsistencyProof, InclusionProof } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from './record.js';
import { decodeLeaf, toAuditEntry } from './leaf.js';
import { logIdFor } from './log.js';
import { catchUpIndex } from './indexer.js';
import { originOf } from './signing.js';
import { latestVerification, startVerification, verificationJob } from './verify-job.js';
import { tileReader } from './tiles.js';
import * as store from './store.js';

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

const headSize = (deps: Pick<Deps, 'db'>, logId: string) => store.headSize(deps.db, logId);

/**
 * The largest head size each log was seen at, per database handle. A log only grows, so a proof
 * for a size at or below it needs no read of the head (one query fewer per proof).
 */
const knownSizes = new WeakMap<object, Map<string, number>>();
async function logReaches(deps: Pick<Deps, 'db'>, logId: string, size: number): Promise<boolean> {
  let sizes = knownSizes.get(deps.db);
  if (!sizes) knownSizes.set(deps.db, (sizes = new Map()));
  if (size <= (sizes.get(logId) ?? 0)) return true;
  const now = await headSize(deps, logId);
  sizes.set(logId, now);
  return size <= now;
}

export async function logInfo(deps: Pick<Deps, 'db' | 'auditKey'>, logId: string): Promise<AuditLogInfo> {
  const checkpoint = await store.latestCheckpoint(deps.db, logId);
  return {
    logId,
    origin: originOf(deps.auditKey, logId),
    verifierKey: deps.auditKey.verifierKey,
    size: await headSize(deps, logId),
    checkpoint: checkpoint?.note ?? null,
  };
}

export async function inclusionProof(deps: Pick<Deps, 'db'>, logId: string, index: number, size: number): Promise<InclusionProof> {
  if (index >= size || !(await logReaches(deps, logId, size))) throw new ConsiliumError('BAD_REQUEST', 'index must be below size, and size at most the log size');
  // The leaf and its path in one read of the tiles (RFC 9162 §2.1.3.1 PATH as subtree ranges).
  const [leaf, ...proof] = await readRangeRoots(tileReader(deps.db, logId), [{ start: index, end: index + 1 }, ...inclusionRanges(index, size)]);
  return { index, size, leafHash: b64(leaf!), proof: proof.map(b64) };
}

export async function consistencyProof(deps: Pick<Deps, 'db'>, logId: string, from: number, to: number): Promise<ConsistencyProof> {
  if (from < 1 || from > to || !(await logReaches(deps, logId, to))) throw new ConsiliumError('BAD_REQUEST', 'need 1 <= from <= to <= log size');
  const proof = await readConsistencyProofFromNodes(tileReader(deps.db, logId), from, to);
  return { from, to, proof: proof.map(b64) };
}

function entriesOf(rows: { leaf: string }[]): AuditEntry[] {
  return rows.map((r) => toAuditEntry(decodeLeaf(r.leaf)));
}

/** Entries with the exact leaf text, so a client can hash what it is shown. */
function listedEntriesOf(rows: { leaf: string }[]): AuditListedEntry[] {
  return rows.map((r) => ({ ...toAuditEntry(decodeLeaf(r.leaf)), leaf: r.leaf }));
}

/** Search the caller's organisation log; the search itself is recorded (reads of the audit log are audited). */
export async function searchAudit(deps: Deps, actor: Actor, query: AuditSearchQuery): Promise<AuditEntryList> {
  const logId = logIdFor(actor.organisationId);
  await catchUpIndex(deps.db, deps.dbKind, logId);
  const rows = await store.searchEntries(
    deps.db,
    logId,
    { actorAccountId: query.actor, caseId: query.caseId, eventType: query.type, from: query.from, to: query.to },
    query.limit,
    query.before,
  );
  await recordAudit(
    deps,
    auditEvent(deps, actor, 'audit.read', 'R', {
      caseId: query.caseId ?? null,
      detail: { actor: query.actor ?? null, type: query.type ?? null, from: query.from ?? null, to: query.to ?? null, results: rows.length },
    }),
  );
  const last = rows[rows.length - 1];
  return { entries: listedEntriesOf(rows), nextBefore: rows.length === query.limit && last ? Number(last.idx) : null };
}

export const EXPORT_MAX_ENTRIES = 100_000;

export async function entriesForExport(deps: Deps, actor: Actor, filter: { from?: string; to?: string; caseId?: string }, format: string): Promise<AuditEntry[]> {
  const logId = logIdFor(actor.organisationId);
  await catchUpIndex(deps.db, deps.dbKind, logId);
  const rows = await store.searchEntries(deps.db, logId, filter, EXPORT_MAX_ENTRIES + 1);
  if (rows.length > EXPORT_MAX_ENTRIES) throw new ConsiliumError('BAD_REQUEST', `more than ${EXPORT_MAX_ENTRIES} entries: narrow the time range`);
  await recordAudit(
    deps,
    auditEvent(deps, actor, 'audit.exported', 'R', { caseId: filter.caseId ?? null, detail: { format, from: filter.from ?? null, to: filter.to ?? null, entries: rows.length } }),
  );
  return entriesOf(rows).reverse();
}

/** Starts a background verification of the caller's organisation log (or answers the one running). */
export function startOwnVerification(deps: Deps, actor: Actor): Promise<AuditVerifyJob> {
  return startVerification(deps, actor, logIdFor(actor.organisationId));
}

export async function ownVerification(deps: Deps, actor: Actor, jobId: string): Promise<AuditVerifyJob> {
  const job = await verificationJob(deps, logIdFor(actor.organisationId), jobId);
  if (!job) throw notFound('verification');
  return job;
}

export async function latestOwnVerification(deps: Deps, actor: Actor): Promise<AuditVerifyStatus> {
  return { job: await latestVerification(deps, logIdFor(actor.organisationId)) };
}
