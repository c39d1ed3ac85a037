import {
  API_PREFIX,
  type AuditEntryList,
  type AuditEventType,
  type AuditLogInfo,
  type AuditVerification,
  type AuditVerifyJob,
  type ConsistencyProof,
  type InclusionProof,
} from '@consilium/protocol';
import { http } from './client';

/** A search of the audit log; every field narrows it. Times are ISO instants, `to` exclusive. */
export interface AuditFilter {
  type?: AuditEventType;
  actor?: string;
  caseId?: string;
  from?: string;
  to?: string;
}

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** Any member may read this: the log's identity, its key and the latest signed checkpoint. */
export const getAuditLog = () => http.get<AuditLogInfo>('/audit/log');

export const getInclusionProof = (index: number, size: number) => http.get<InclusionProof>(`/audit/proofs/inclusion${query({ index, size })}`);

export const getConsistencyProof = (from: number, to: number) => http.get<ConsistencyProof>(`/audit/proofs/consistency${query({ from, to })}`);

/** Newest first; `before` pages back (entries with a lower index). The server records the search. */
export const searchAudit = (filter: AuditFilter, page: { before?: number; limit: number }) =>
  http.get<AuditEntryList>(`/audit/entries${query({ ...filter, ...page })}`);

/** Starts (or joins) the server's background verification of the log; GET by id until it is no longer running. */
export const startAuditVerification = () => http.post<AuditVerifyJob>('/audit/verify');
export const getAuditVerification = (jobId: string) => http.get<AuditVerifyJob>(`/audit/verify/${encodeURIComponent(jobId)}`);

/**
 * The server recomputes the whole tree and checks every stored checkpoint (recorded too). It runs
 * in the background, one at a time per log: this starts or joins it and polls until it finishes.
 */
export async function verifyAuditLog(pollMs = 500): Promise<AuditVerification> {
  let job = await startAuditVerification();
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    job = await getAuditVerification(job.id);
  }
  if (job.state === 'failed' || !job.result) throw new Error(job.error ?? 'the verification did not finish');
  return job.result;
}

/**
 * Where the browser downloads an export (a plain link, so the file streams to disk). The export
 * takes the time range and case only: type and actor filters do not apply to it.
 */
export const auditExportHref = (format: 'csv' | 'fhir', filter: AuditFilter) =>
  `${API_PREFIX}/audit/export${query({ format, from: filter.from, to: filter.to, caseId: filter.caseId })}`;
