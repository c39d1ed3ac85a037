import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { API_PREFIX, BlobParams, DownloadAttachmentQuery, ExportAttachmentBody, Ok, UploadAttachmentQuery, UploadedAttachment } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { ConsiliumError } from '../errors.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import * as attachments from './service.js';

const OCTETS = 'application/octet-stream';

/** The body of an upload, if it is what the route takes: the raw request stream. */
function uploadBody(request: FastifyRequest): IncomingMessage {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== OCTETS || !request.body) throw new ConsiliumError('UNSUPPORTED_MEDIA_TYPE', `send the ciphertext as ${OCTETS}`);
  return request.body as IncomingMessage;
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  const n = header === undefined ? NaN : Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * An answer given before the body was read to its end: close the connection after it, rather
 * than let the server read (and drop) the rest of a possibly huge upload.
 */
function closeIfUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) reply.header('connection', 'close');
}

export async function attachmentRoutes(app: ZodApp, deps: Deps): Promise<void> {
  const base = `${API_PREFIX}/attachments`;

  await app.register(async (plugin) => {
    const scoped = plugin.withTypeProvider<ZodTypeProvider>();
    // Only in this scope: everywhere else the API takes JSON only. The body is not buffered: the
    // route reads the request stream itself (hashing and counting as it goes).
    scoped.addContentTypeParser(OCTETS, (_request, payload, done) => done(null, payload));
    // Any refusal (access, validation, size, hash) may come before the body was read.
    scoped.addHook('onError', async (request, reply) => closeIfUnread(request, reply));

    scoped.put(
      `${base}/:blobId`,
      {
        config: { access: 'member' },
        schema: {
          tags: ['attachments'],
          description: `Upload the ciphertext of an attachment (${OCTETS}); blobId is its SHA-256 in hex.`,
          params: BlobParams,
          querystring: UploadAttachmentQuery,
          response: { 200: UploadedAttachment, ...errorResponses },
        },
      },
      async (request) =>
        attachments.uploadAttachment(deps, authOf(request), actorOf(request), request.params.blobId, request.query, uploadBody(request), declaredLength(request)),
    );
  });

  app.get(
    `${base}/:blobId`,
    {
      config: { access: 'member' },
      schema: {
        tags: ['attachments'],
        description: 'Download the ciphertext of an attachment (application/octet-stream), as a member of a conversation it was uploaded for.',
        params: BlobParams,
        querystring: DownloadAttachmentQuery,
        response: { 200: z.string().describe('the ciphertext (application/octet-stream)'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const blob = await attachments.downloadAttachment(deps, authOf(request), actorOf(request), request.params.blobId, request.query.conversationId);
      // A stream is sent as it is (Fastify serialises only non-stream payloads).
      return reply.type(OCTETS).header('content-length', String(blob.size)).send(blob.stream as unknown as string);
    },
  );

  app.post(
    `${base}/:blobId/exports`,
    {
      config: { access: 'member' },
      schema: { tags: ['attachments'], params: BlobParams, body: ExportAttachmentBody, response: { 200: Ok, ...errorResponses } },
    },
    async (request) => {
      await attachments.recordExport(deps, authOf(request), actorOf(request), request.params.blobId, request.body.conversationId);
      return { ok: true as const };
    },
  );
}
