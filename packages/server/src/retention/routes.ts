import { API_PREFIX, Conversation, IdParams, MessageParams, Ok, RecallMessageQuery, SetExpiryBody } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { setExpiry } from './expiry.js';
import { recallMessage } from './recall.js';

export function retentionRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/conversations`;
  app.put(
    `${base}/:id/expiry`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: IdParams, body: SetExpiryBody, response: { 200: Conversation, ...errorResponses } } },
    async (request) => setExpiry(deps, authOf(request), actorOf(request), request.params.id, request.body),
  );
  app.delete(
    `${base}/:id/messages/:seq`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: MessageParams, querystring: RecallMessageQuery, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await recallMessage(deps, authOf(request), actorOf(request), request.params.id, request.params.seq, request.query.attachments?.split(',') ?? []);
      return { ok: true as const };
    },
  );
}
