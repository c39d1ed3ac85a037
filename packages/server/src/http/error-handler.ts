import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { errorStatus, type ErrorBody, type ErrorCode } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { setFallbackSecurityHeaders } from './security-headers.js';

/** Fastify's own error codes that are the client's fault, and what we call them. */
const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_INVALID_URL: 'BAD_REQUEST',
};

export function errorBody(code: ErrorCode, message: string, extra: Partial<ErrorBody['error']> = {}): ErrorBody {
  return { error: { code, message, ...extra } };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, extra: Partial<ErrorBody['error']> = {}) {
  if (extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(extra.retryAfterSeconds));
  return reply.status(errorStatus[code]).type('application/json; charset=utf-8').send(errorBody(code, message, extra));
}

export function toErrorReply(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ConsiliumError) {
    return sendError(reply, error.code, error.message, error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {});
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.'),
      message: v.message ?? 'invalid',
    }));
    return sendError(reply, 'VALIDATION_FAILED', `request ${error.validationContext ?? 'input'} is invalid`, { issues });
  }
  if (isUniqueViolation(error)) return sendError(reply, 'CONFLICT', 'that already exists');
  const fe = error as Partial<FastifyError>;
  const mapped = fe.code ? frameworkCodes[fe.code] : undefined;
  if (mapped) return sendError(reply, mapped, fe.message ?? mapped);
  if (error instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return sendError(reply, 'MALFORMED_JSON', 'body is not valid JSON');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return sendError(reply, fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST', fe.message ?? 'bad request');
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, 'INTERNAL', 'something went wrong on our side; it has been logged');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => toErrorReply(error, request, reply));
}

/** Passed as Fastify's `frameworkErrors`: errors raised before routing (bad URL, long params). */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  setFallbackSecurityHeaders(reply);
  return toErrorReply(error, request, reply);
}

/** A unique index refused a write that raced past a service's own check (SQLite or PostgreSQL). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
