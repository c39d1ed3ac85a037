import { readConsistencyProof, readInclusionProof, type HashReader } from '@consilium/crypto';
import type { AuditEntry, AuditEntryList, AuditLogInfo, AuditSearchQuery, AuditVerification, ConsistencyProof, InclusionProof } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import { auditEvent, recordAudit, type Actor } from './record.js';
import { decodeLeaf, toAuditEntry } from './leaf.js';
import { logIdFor } from './log.js';
import { originOf } from './signing.js';
import { verifyLog } from './verify.js';
import * as store from './store.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * Complete subtrees never change in an append-only log, so their roots are cached, per database
 * handle and log (two servers in one process, as in tests, must not share a log's cache).
 */
const subtreeCaches = new WeakMap<Db, Map<string, Map<string, Uint8Array>>>();
const CACHE_LIMIT = 100_000;
function cacheFor(db: Db, logId: string): Map<string, Uint8Array> {
  let perDb = subtreeCaches.get(db);
  if (!perDb) subtreeCaches.set(db, (perDb = new Map()));
  let cache = perDb.get(logId);
  if (!cache || cache.size > CACHE_LIMIT) perDb.set(logId, (cache = new Map()));
  return cache;
}

function reader(db: Db, logId: string): HashReader {
  return {
    leafHashes: async (start, end) => {
      const rows = await store.leafHashRange(db, logId, start, end);
      if (rows.length !== end - start) throw new ConsiliumError('INTERNAL', `audit log ${logId} is missing entries in [${start}, ${end})`);
      return rows.map((r) => new Uint8Array(Buffer.from(r.leaf_hash, 'base64')));
    },
  };
}

async function headSize(deps: Deps, logId: string): Promise<number> {
  return Number((await store.getHead(deps.db, logId))?.size ?? 0);
}

export async function logInfo(deps: Deps, logId: string): Promise<AuditLogInfo> {
  const checkpoint = await store.latestCheckpoint(deps.db, logId);
  return {
    logId,
    origin: originOf(deps.auditKey, logId),
    verifierKey: deps.auditKey.verifierKey,
    size: await headSize(deps, logId),
    checkpoint: checkpoint?.note ?? null,
  };
}

export async function inclusionProof(deps: Deps, logId: string, index: number, size: number): Promise<InclusionProof> {
  if (size > (await headSize(deps, logId)) || index >= size) throw new ConsiliumError('BAD_REQUEST', 'index must be below size, and size at most the log size');
  const r = reader(deps.db, logId);
  const [leaf] = await r.leafHashes(index, index + 1);
  const proof = await readInclusionProof(r, index, size, { cache: cacheFor(deps.db, logId) });
  return { index, size, leafHash: b64(leaf!), proof: proof.map(b64) };
}

export async function consistencyProof(deps: Deps, logId: string, from: number, to: number): Promise<ConsistencyProof> {
  if (from < 1 || from > to || to > (await headSize(deps, logId))) throw new ConsiliumError('BAD_REQUEST', 'need 1 <= from <= to <= log size');
  const proof = await readConsistencyProof(reader(deps.db, logId), from, to, { cache: cacheFor(deps.db, logId) });
  return { from, to, proof: proof.map(b64) };
}

function entriesOf(rows: { leaf: string }[]): AuditEntry[] {
  return rows.map((r) => toAuditEntry(decodeLeaf(r.leaf)));
}

/** Search the caller's organisation log; the search itself is recorded (reads of the audit log are audited). */
export async function searchAudit(deps: Deps, actor: Actor, query: AuditSearchQuery): Promise<AuditEntryList> {
  const logId = logIdFor(actor.organisationId);
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
  return { entries: entriesOf(rows), nextBefore: rows.length === query.limit && last ? Number(last.idx) : null };
}

export const EXPORT_MAX_ENTRIES = 100_000;

export async function entriesForExport(deps: Deps, actor: Actor, filter: { from?: string; to?: string; caseId?: string }, format: string): Promise<AuditEntry[]> {
  const logId = logIdFor(actor.organisationId);
  const rows = await store.searchEntries(deps.db, logId, filter, EXPORT_MAX_ENTRIES + 1);
  if (rows.length > EXPORT_MAX_ENTRIES) throw new ConsiliumError('BAD_REQUEST', `more than ${EXPORT_MAX_ENTRIES} entries: narrow the time range`);
  await recordAudit(
    deps,
    auditEvent(deps, actor, 'audit.exported', 'R', { caseId: filter.caseId ?? null, detail: { format, from: filter.from ?? null, to: filter.to ?? null, entries: rows.length } }),
  );
  return entriesOf(rows).reverse();
}

export async function verifyOwnLog(deps: Deps, actor: Actor): Promise<AuditVerification> {
  const report = await verifyLog(deps.db, deps.auditKey, logIdFor(actor.organisationId));
  await recordAudit(deps, auditEvent(deps, actor, 'audit.read', 'E', { detail: { verify: true, ok: report.ok, entries: report.entries } }));
  return { ...report, verifiedAt: iso(deps.now()) };
}
