import {
  API_PREFIX,
  AuditEntryList,
  AuditExportQuery,
  AuditLogInfo,
  AuditSearchQuery,
  AuditVerifyJob,
  AuditVerifyJobParams,
  AuditVerifyStatus,
  ConsistencyProof,
  ConsistencyProofQuery,
  InclusionProof,
  InclusionProofQuery,
} from '@consilium/protocol';
import { z } from 'zod';
import { iso, type Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as audit from './service.js';
import { auditCsv, auditFhirBundle } from './export.js';
import { logIdFor } from './log.js';
import { originOf } from './signing.js';

export function auditRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/audit`;
  const orgOf = (request: Parameters<typeof authOf>[0]) => authOf(request).organisation.id;

  // Any member may check the log: its checkpoint and proofs reveal no entry's content.
  app.get(`${base}/log`, { config: { access: 'member' }, schema: { tags: ['audit'], response: { 200: AuditLogInfo, ...errorResponses } } }, async (request) =>
    audit.logInfo(deps, logIdFor(orgOf(request))),
  );

  app.get(
    `${base}/proofs/inclusion`,
    { config: { access: 'member' }, schema: { tags: ['audit'], querystring: InclusionProofQuery, response: { 200: InclusionProof, ...errorResponses } } },
    async (request) => audit.inclusionProof(deps, logIdFor(orgOf(request)), request.query.index, request.query.size),
  );

  app.get(
    `${base}/proofs/consistency`,
    { config: { access: 'member' }, schema: { tags: ['audit'], querystring: ConsistencyProofQuery, response: { 200: ConsistencyProof, ...errorResponses } } },
    async (request) => audit.consistencyProof(deps, logIdFor(orgOf(request)), request.query.from, request.query.to),
  );

  app.get(
    `${base}/entries`,
    { config: { access: 'auditor' }, schema: { tags: ['audit'], querystring: AuditSearchQuery, response: { 200: AuditEntryList, ...errorResponses } } },
    async (request) => audit.searchAudit(deps, actorOf(request), request.query),
  );

  app.get(
    `${base}/export`,
    { config: { access: 'auditor' }, schema: { tags: ['audit'], querystring: AuditExportQuery, response: { 200: z.string().describe('CSV (text/csv) or a FHIR R4 Bundle (application/fhir+json)'), ...errorResponses } } },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const entries = await audit.entriesForExport(deps, actorOf(request), filter, format);
      const stamp = iso(deps.now()).replace(/[:.]/g, '-');
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="audit-${stamp}.csv"`).send(auditCsv(entries));
      }
      return reply
        .type('application/fhir+json; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.fhir.json"`)
        .send(JSON.stringify(auditFhirBundle(entries, originOf(deps.auditKey, logIdFor(orgOf(request))), iso(deps.now()))));
    },
  );

  // Verification runs in the background (seconds for a million entries); one at a time per log.
  app.post(
    `${base}/verify`,
    { config: { access: 'auditor' }, schema: { tags: ['audit'], response: { 202: AuditVerifyJob, ...errorResponses } } },
    async (request, reply) => reply.code(202).send(await audit.startOwnVerification(deps, actorOf(request))),
  );

  app.get(
    `${base}/verify`,
    { config: { access: 'auditor' }, schema: { tags: ['audit'], response: { 200: AuditVerifyStatus, ...errorResponses } } },
    async (request) => audit.latestOwnVerification(deps, actorOf(request)),
  );

  app.get(
    `${base}/verify/:jobId`,
    { config: { access: 'auditor' }, schema: { tags: ['audit'], params: AuditVerifyJobParams, response: { 200: AuditVerifyJob, ...errorResponses } } },
    async (request) => audit.ownVerification(deps, actorOf(request), request.params.jobId),
  );
}
