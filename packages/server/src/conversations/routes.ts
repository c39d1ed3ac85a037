import {
  AckBody,
  AddMembersBody,
  API_PREFIX,
  Conversation,
  ConversationList,
  CreateConversationBody,
  Directory,
  DirectoryQuery,
  IdParams,
  MemberParams,
  MessagePage,
  MessagesQuery,
  Ok,
  ReadBody,
  ReceiptList,
  SubmitMessageBody,
  SubmittedMessage,
  WelcomeList,
} from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { hotPathLogging } from '../http/logging.js';
import * as conversations from './service.js';
import * as delivery from '../delivery/service.js';
import { searchDirectory } from './directory.js';
import { listReceipts, markRead } from './receipts.js';

export function conversationRoutes(app: ZodApp, deps: Deps): void {
  const base = `${API_PREFIX}/conversations`;

  app.get(
    `${API_PREFIX}/directory`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], querystring: DirectoryQuery, response: { 200: Directory, ...errorResponses } } },
    async (request) => ({ people: await searchDirectory(deps, authOf(request), request.query.q) }),
  );

  app.get(base, { config: { access: 'member' }, schema: { tags: ['conversations'], response: { 200: ConversationList, ...errorResponses } } }, async (request) => ({
    conversations: await conversations.listConversations(deps, authOf(request)),
  }));

  app.post(
    base,
    { config: { access: 'member' }, schema: { tags: ['conversations'], body: CreateConversationBody, response: { 200: Conversation, ...errorResponses } } },
    async (request) => conversations.createConversation(deps, authOf(request), actorOf(request), request.body),
  );

  app.get(
    `${base}/:id`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: IdParams, response: { 200: Conversation, ...errorResponses } } },
    async (request) => {
      const auth = authOf(request);
      return conversations.describeConversation(deps, await conversations.conversationForMember(deps, auth, request.params.id), auth.session.device_id);
    },
  );

  app.post(
    `${base}/:id/members`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: IdParams, body: AddMembersBody, response: { 200: Conversation, ...errorResponses } } },
    async (request) => conversations.addMembers(deps, authOf(request), actorOf(request), request.params.id, request.body),
  );

  app.delete(
    `${base}/:id/members/:accountId`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: MemberParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await conversations.removeMember(deps, authOf(request), actorOf(request), request.params.id, request.params.accountId);
      return { ok: true as const };
    },
  );

  app.get(
    `${base}/:id/receipts`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: IdParams, response: { 200: ReceiptList, ...errorResponses } } },
    async (request) => listReceipts(deps, authOf(request), request.params.id),
  );

  app.post(
    `${base}/:id/read`,
    { config: { access: 'member' }, ...hotPathLogging, schema: { tags: ['conversations'], params: IdParams, body: ReadBody, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await markRead(deps, authOf(request), request.params.id, request.body.seq);
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/:id/messages`,
    {
      config: { access: 'member' },
      ...hotPathLogging,
      // MLS commits for large groups are big; the body limit here is the message limit, not the API default.
      bodyLimit: 2 * 1024 * 1024,
      schema: { tags: ['conversations'], params: IdParams, body: SubmitMessageBody, response: { 200: SubmittedMessage, ...errorResponses } },
    },
    async (request) => delivery.submitMessage(deps, authOf(request), request.params.id, request.body),
  );

  app.get(
    `${base}/:id/messages`,
    { config: { access: 'member' }, ...hotPathLogging, schema: { tags: ['conversations'], params: IdParams, querystring: MessagesQuery, response: { 200: MessagePage, ...errorResponses } } },
    async (request) => delivery.fetchMessages(deps, authOf(request), request.params.id, request.query.after, request.query.limit),
  );

  app.post(
    `${base}/:id/ack`,
    { config: { access: 'member' }, ...hotPathLogging, schema: { tags: ['conversations'], params: IdParams, body: AckBody, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await delivery.acknowledge(deps, authOf(request), request.params.id, request.body.seq);
      return { ok: true as const };
    },
  );

  app.get(`${API_PREFIX}/welcomes`, { config: { access: 'member' }, schema: { tags: ['conversations'], response: { 200: WelcomeList, ...errorResponses } } }, async (request) => ({
    welcomes: await delivery.pendingWelcomes(deps, authOf(request)),
  }));

  app.post(
    `${API_PREFIX}/welcomes/:id/consumed`,
    { config: { access: 'member' }, schema: { tags: ['conversations'], params: IdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await delivery.consumeWelcome(deps, authOf(request), request.params.id);
      return { ok: true as const };
    },
  );
}
