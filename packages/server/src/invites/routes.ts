import {
  API_PREFIX,
  AcceptInviteBody,
  CreateInviteBody,
  CreatedInvite,
  IdParams,
  InviteList,
  InvitePreview,
  InviteTokenParams,
  Ok,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf, clientOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as invites from './service.js';

export function inviteRoutes(app: ZodApp, deps: Deps): void {
  const admin = `${API_PREFIX}/org/invites`;

  app.post(
    admin,
    { config: { access: 'admin' }, schema: { tags: ['org'], body: CreateInviteBody, response: { 200: CreatedInvite, ...errorResponses } } },
    async (request) => {
      return invites.createInvite(deps, actorOf(request), request.body);
    },
  );

  app.get(admin, { config: { access: 'admin' }, schema: { tags: ['org'], response: { 200: InviteList, ...errorResponses } } }, async (request) => ({
    invites: await invites.listInvites(deps, authOf(request).organisation.id),
  }));

  app.delete(
    `${admin}/:id`,
    { config: { access: 'admin' }, schema: { tags: ['org'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await invites.revokeInvite(deps, actorOf(request), request.params.id);
      return { ok: true as const };
    },
  );

  // The invitee's side: the token in the path is the only credential. Tokens are redacted from logs.
  app.get(
    `${API_PREFIX}/invites/:token`,
    { config: { access: 'public' }, schema: { tags: ['invites'], params: InviteTokenParams, response: { 200: InvitePreview, ...errorResponses } } },
    async (request) => invites.previewInvite(deps, request.params.token),
  );

  app.post(
    `${API_PREFIX}/invites/:token/accept`,
    { config: { access: 'public' }, schema: { tags: ['invites'], params: InviteTokenParams, body: AcceptInviteBody, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await invites.acceptInvite(deps, request.params.token, request.body, clientOf(request));
      return { ok: true as const };
    },
  );
}
