import {
  API_PREFIX,
  CreateDepartmentBody,
  Department,
  DepartmentList,
  IdParams,
  Member,
  MemberList,
  Ok,
  Organisation,
  OrgConnection,
  OrgConnectionList,
  ProposeConnectionBody,
  SetVerificationBody,
  UpdateMemberBody,
  UpdateOrgSettingsBody,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as orgs from './service.js';
import * as accounts from '../accounts/service.js';
import { resetMfa } from '../mfa/service.js';
import * as connections from './connections.js';

/** The admin console's API. Every query is scoped to the caller's own organisation. */
export function orgRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/org`;
  const orgOf = (request: Parameters<typeof authOf>[0]) => authOf(request).organisation.id;

  app.get(base, { config: { access: 'member' }, schema: { tags: ['org'], response: { 200: Organisation, ...errorResponses } } }, async (request) =>
    orgs.getOrganisation(deps, orgOf(request)),
  );

  app.patch(
    `${base}/settings`,
    { config: { access: 'admin' }, schema: { tags: ['org'], body: UpdateOrgSettingsBody, response: { 200: Organisation, ...errorResponses } } },
    async (request) => orgs.updateSettings(deps, actorOf(request), request.body),
  );

  app.get(
    `${base}/departments`,
    { config: { access: 'member' }, schema: { tags: ['org'], response: { 200: DepartmentList, ...errorResponses } } },
    async (request) => ({ departments: await orgs.listDepartments(deps, orgOf(request)) }),
  );

  app.post(
    `${base}/departments`,
    { config: { access: 'admin' }, schema: { tags: ['org'], body: CreateDepartmentBody, response: { 200: Department, ...errorResponses } } },
    async (request) => orgs.createDepartment(deps, actorOf(request), request.body.name),
  );

  app.get(
    `${base}/members`,
    { config: { access: 'admin' }, schema: { tags: ['org'], response: { 200: MemberList, ...errorResponses } } },
    async (request) => ({ members: await accounts.listMembers(deps, orgOf(request)) }),
  );

  app.get(
    `${base}/members/:id`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: Member, ...errorResponses } } },
    async (request) => accounts.toMember(deps, await accounts.getMember(deps, orgOf(request), request.params.id)),
  );

  app.patch(
    `${base}/members/:id`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, body: UpdateMemberBody, response: { 200: Member, ...errorResponses } } },
    async (request) => accounts.updateMember(deps, actorOf(request), request.params.id, request.body),
  );

  app.put(
    `${base}/members/:id/verification`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, body: SetVerificationBody, response: { 200: Member, ...errorResponses } } },
    async (request) => accounts.setVerification(deps, actorOf(request), request.params.id, request.body),
  );

  app.post(
    `${base}/members/:id/reset-mfa`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      const member = await accounts.getMember(deps, orgOf(request), request.params.id);
      await resetMfa(deps, actorOf(request), member);
      return { ok: true as const };
    },
  );

  // Connections with other organisations (messaging across them): proposed and ended by either side's admins, accepted by the invited side's.
  app.get(
    `${base}/connections`,
    { config: { access: 'admin' }, schema: { tags: ['org'], response: { 200: OrgConnectionList, ...errorResponses } } },
    async (request) => ({ connections: await connections.listConnections(deps, orgOf(request)) }),
  );

  app.post(
    `${base}/connections`,
    { config: { access: 'admin' }, schema: { tags: ['org'], body: ProposeConnectionBody, response: { 200: OrgConnection, ...errorResponses } } },
    async (request) => connections.proposeConnection(deps, actorOf(request), request.body),
  );

  app.post(
    `${base}/connections/:id/accept`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: OrgConnection, ...errorResponses } } },
    async (request) => connections.acceptConnection(deps, actorOf(request), request.params.id),
  );

  app.delete(
    `${base}/connections/:id`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: OrgConnection, ...errorResponses } } },
    async (request) => connections.endConnection(deps, actorOf(request), request.params.id),
  );

  app.delete(
    `${base}/members/:id/sessions`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await accounts.revokeMemberSessions(deps, actorOf(request), request.params.id);
      return { ok: true as const };
    },
  );
}
