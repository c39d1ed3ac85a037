import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';
import { ErrorBody, errorStatus, type ErrorCode } from '@consilium/protocol';
import type { Reply } from './harness.js';

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed JSON when the body is JSON, else undefined. */
  body: any;
}

/**
 * One request through node:http, byte for byte as given: the path is not normalised (fetch would
 * re-encode some of it), and the body can be sent in chunks without Content-Length
 * (Transfer-Encoding: chunked). If the server answers and closes before the body is written,
 * the write error is ignored: the answer is what the test looks at.
 */
export function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; headers?: Record<string, string>; chunks?: (string | Buffer)[] },
): Promise<RawReply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: options.method,
      path: options.path,
      headers: { connection: 'close', ...options.headers },
      agent: false,
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        settled = true;
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', (err) => {
        if (!settled) reject(err);
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE / ECONNRESET while still writing: the server has refused the body; its answer (if
      // any) arrives on 'response'. Anything before a response is a real failure.
      setTimeout(() => {
        if (!settled) reject(err);
      }, 1000);
    });
    void (async () => {
      for (const chunk of options.chunks ?? []) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
        // Let each chunk go out on its own, so the server sees a stream, not one buffer.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (!req.destroyed) req.end();
    })();
  });
}

/**
 * Asserts the one error shape every client may rely on: the status that belongs to the code,
 * a JSON body that is exactly `{ error: { code, message, ... } }` (the protocol's strict
 * ErrorBody), and nothing of the server's insides (no stack, no Fastify-native fields).
 */
export function expectError(reply: Pick<Reply, 'status' | 'body'> & { headers?: Headers | IncomingHttpHeaders }, code: ErrorCode, status: number = errorStatus[code]): void {
  const context = `${reply.status} ${JSON.stringify(reply.body)}`;
  expect(reply.status, context).toBe(status);
  expect(errorStatus[code], `code ${code} belongs to another status`).toBe(status);
  const parsed = ErrorBody.safeParse(reply.body);
  expect(parsed.success, `not the protocol's error shape: ${context}`).toBe(true);
  expect(reply.body.error.code, context).toBe(code);
  expect(typeof reply.body.error.message).toBe('string');
  expect(reply.body.error.message.length).toBeGreaterThan(0);
  expectNoInternals(reply.body);
  if (reply.headers) {
    const ct = reply.headers instanceof Headers ? reply.headers.get('content-type') : reply.headers['content-type'];
    expect(ct, 'error bodies are JSON').toMatch(/^application\/json/);
  }
}

/** No stack trace, file path or Fastify/Node error internals anywhere in a body sent to a client. */
export function expectNoInternals(body: unknown): void {
  const text = JSON.stringify(body) ?? '';
  expect(text).not.toMatch(/"stack"|\bat .+\(.+:\d+:\d+\)|node_modules|\/src\/.+\.ts|FST_ERR|"statusCode"/);
}

/** A random v4 UUID that names nothing. */
export const randomId = (): string => crypto.randomUUID();
