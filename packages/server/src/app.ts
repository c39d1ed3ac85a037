import websocket from '@fastify/websocket';
import { MAX_CLIENT_FRAME_BYTES } from '@consilium/protocol';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { API_PREFIX, Health, PROTOCOL_VERSION } from '@consilium/protocol';
import type { Deps } from './deps.js';
import { frameworkErrors, registerErrorHandling, sendError } from './http/error-handler.js';
import { registerJsonParser } from './http/json-body.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { registerAccessControl } from './http/access.js';
import { loggerOptions } from './http/logging.js';
import { errorResponses } from './http/route-types.js';
import { authRoutes } from './auth/routes.js';
import { meRoutes } from './me/routes.js';
import { orgRoutes } from './orgs/routes.js';
import { inviteRoutes } from './invites/routes.js';
import { auditRoutes } from './audit/routes.js';
import { deviceRoutes } from './devices/routes.js';
import { conversationRoutes } from './conversations/routes.js';
import { attachmentRoutes } from './attachments/routes.js';
import { realtimeRoutes } from './realtime/routes.js';
import { caseRoutes } from './cases/routes.js';
import { retentionRoutes } from './retention/routes.js';
import { patientRoutes } from './patients/routes.js';
import { phishingRoutes } from './phishing/routes.js';
import { backupRoutes } from './backup/routes.js';

export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: loggerOptions(config),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    frameworkErrors,
    // Request ids are ours, not the client's, so a client cannot forge log correlation.
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  registerJsonParser(app);
  await registerSecurityHeaders(app, config);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Consilium API', version: PROTOCOL_VERSION, description: 'Secure collaboration for healthcare professionals.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: '__Host-consilium_session' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // Before the access hook: its onRequest marks upgrade requests, so a refused upgrade's socket is destroyed.
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES * 2 } });
  registerAccessControl(app, deps);

  app.get(
    `${API_PREFIX}/health`,
    { config: { access: 'public' }, schema: { tags: ['ops'], response: { 200: Health, ...errorResponses } } },
    async () => ({ status: 'ok' as const, version: PROTOCOL_VERSION, database: deps.dbKind }),
  );
  app.get(`${API_PREFIX}/openapi.json`, { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  authRoutes(app, deps);
  meRoutes(app, deps);
  orgRoutes(app, deps);
  inviteRoutes(app, deps);
  auditRoutes(app, deps);
  deviceRoutes(app, deps);
  conversationRoutes(app, deps);
  await attachmentRoutes(app, deps);
  caseRoutes(app, deps);
  retentionRoutes(app, deps);
  patientRoutes(app, deps);
  await phishingRoutes(app, deps);
  backupRoutes(app, deps);
  await realtimeRoutes(app, deps);

  const webIndex = config.webDir && path.join(config.webDir, 'index.html');
  if (webIndex && existsSync(webIndex)) {
    await app.register(fastifyStatic, { root: config.webDir, index: 'index.html', wildcard: false, cacheControl: false });
    // Hashed assets can be cached forever; index.html never, so a deploy takes effect at once.
    app.addHook('onSend', async (request, reply) => {
      if (request.url.startsWith('/assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
      else if (!request.url.startsWith('/api/')) reply.header('cache-control', 'no-cache');
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?')[0] ?? '';
    // Client-side routes get the app; a missing file (anything with an extension) is a real 404.
    const wantsPage = request.method === 'GET' && !pathname.startsWith('/api/') && !/\.[a-z0-9]+$/i.test(pathname) && webIndex && existsSync(webIndex);
    if (wantsPage) return reply.type('text/html; charset=utf-8').sendFile('index.html');
    return sendError(reply, 'NOT_FOUND', `no route ${request.method} ${pathname}`);
  });

  return app;
}
