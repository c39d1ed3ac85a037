import {
  API_PREFIX,
  CaseDetail,
  CaseExportBody,
  CaseList,
  CaseListQuery,
  CasePolicy,
  CaseSummary,
  CloseCaseBody,
  DepartmentParams,
  EscalateBody,
  IdParams,
  Ok,
  OnCallRoster,
  OpenCaseBody,
  SetOnCallBody,
  UpdateCasePolicyBody,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as cases from './service.js';
import { getRoster, setRoster } from './oncall.js';
import { casePolicy, updateCasePolicy } from './policy.js';

export function caseRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/cases`;
  const tags = ['cases'];
  const member = { access: 'member' as const };

  app.get(base, { config: member, schema: { tags, querystring: CaseListQuery, response: { 200: CaseList, ...errorResponses } } }, async (request) => ({
    cases: await cases.listCases(deps, authOf(request), request.query.filter),
  }));

  app.post(base, { config: member, schema: { tags, body: OpenCaseBody, response: { 200: CaseDetail, ...errorResponses } } }, async (request) =>
    cases.openCase(deps, authOf(request), actorOf(request), request.body),
  );

  app.get(`${base}/:id`, { config: member, schema: { tags, params: IdParams, response: { 200: CaseDetail, ...errorResponses } } }, async (request) =>
    cases.caseDetail(deps, authOf(request), request.params.id),
  );

  const action = (name: string, run: (request: Parameters<typeof authOf>[0] & { params: { id: string } }) => Promise<CaseSummary>) =>
    app.post(`${base}/:id/${name}`, { config: member, schema: { tags, params: IdParams, response: { 200: CaseSummary, ...errorResponses } } }, async (request) =>
      run(request),
    );
  action('accept', (r) => cases.accept(deps, authOf(r), actorOf(r), r.params.id));
  action('decline', (r) => cases.decline(deps, authOf(r), actorOf(r), r.params.id));
  action('answered', (r) => cases.markAnswered(deps, authOf(r), actorOf(r), r.params.id));

  app.post(`${base}/:id/escalate`, { config: member, schema: { tags, params: IdParams, body: EscalateBody, response: { 200: CaseSummary, ...errorResponses } } }, async (request) =>
    cases.escalate(deps, authOf(request), actorOf(request), request.params.id, request.body.step),
  );

  app.post(`${base}/:id/close`, { config: member, schema: { tags, params: IdParams, body: CloseCaseBody, response: { 200: CaseSummary, ...errorResponses } } }, async (request) =>
    cases.closeCase(deps, authOf(request), actorOf(request), request.params.id),
  );

  app.post(`${base}/:id/exports`, { config: member, schema: { tags, params: IdParams, body: CaseExportBody, response: { 200: Ok, ...errorResponses } } }, async (request) => {
    await cases.recordExport(deps, authOf(request), actorOf(request), request.params.id, request.body.format);
    return { ok: true as const };
  });

  // On-call rosters: everyone may see who is on call before they page; admins keep the rosters.
  app.get(`${API_PREFIX}/oncall/:departmentId`, { config: member, schema: { tags, params: DepartmentParams, response: { 200: OnCallRoster, ...errorResponses } } }, async (request) =>
    getRoster(deps, authOf(request).organisation.id, request.params.departmentId),
  );

  app.put(
    `${API_PREFIX}/oncall/:departmentId`,
    { config: { access: 'admin' }, schema: { tags, params: DepartmentParams, body: SetOnCallBody, response: { 200: OnCallRoster, ...errorResponses } } },
    async (request) => setRoster(deps, actorOf(request), authOf(request).organisation.id, request.params.departmentId, request.body),
  );

  app.get(`${API_PREFIX}/org/case-policy`, { config: member, schema: { tags, response: { 200: CasePolicy, ...errorResponses } } }, async (request) =>
    casePolicy(deps.db, authOf(request).organisation.id),
  );

  app.patch(
    `${API_PREFIX}/org/case-policy`,
    { config: { access: 'admin' }, schema: { tags, body: UpdateCasePolicyBody, response: { 200: CasePolicy, ...errorResponses } } },
    async (request) => updateCasePolicy(deps, actorOf(request), authOf(request).organisation.id, request.body),
  );
}
