import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';

/** One-time tokens that can appear in a path; never written to a log. */
const secretPathSegments = /(\/invites\/)[^/?#]+/gi;

/** Redacts after percent-decoding, since the router decodes too (/api/v1/%69nvites/<token>). */
export function redactUrl(url: string): string {
  let decoded = url;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    // Undecodable paths never reach a route; redact what we can see.
  }
  return decoded.replace(secretPathSegments, '$1[redacted]');
}

/**
 * pino options for Fastify: request logs carry method, redacted URL, address and status, never
 * headers (cookies), bodies (passwords, codes) or query strings.
 */
export function loggerOptions(config: Pick<Config, 'logLevel'>): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]', '*.password', '*.token', '*.code', '*.secret'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactUrl(req.url.split('?')[0] ?? ''),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/**
 * Route options for the message hot path (send, fetch, acknowledge): hundreds of requests a second
 * per node, so no "incoming request" / "request completed" lines at info. What matters is still
 * logged: refusals (4xx: not a member, stale epoch, bad ciphertext, rate limits) at warn with
 * their status, and failures at error (the error handler).
 */
export const hotPathLogging = {
  logLevel: 'warn' as const,
  onResponse: async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (reply.statusCode >= 400 && reply.statusCode < 500) request.log.warn({ req: request, res: reply }, 'request refused');
  },
};
