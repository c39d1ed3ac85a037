import { API_PREFIX, type ErrorBody, type ErrorCode } from '@consilium/protocol';

/** Codes the server sends, plus the one we raise when the server cannot be reached at all. */
export type ApiErrorCode = ErrorCode | 'NETWORK_ERROR';

export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly status: number,
    readonly retryAfterSeconds?: number,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Answers that mean "this browser no longer holds a usable session". */
const sessionLostCodes: ReadonlySet<ApiErrorCode> = new Set(['SESSION_EXPIRED', 'UNAUTHENTICATED']);

type SessionLostListener = (error: ApiError) => void;
const sessionLostListeners = new Set<SessionLostListener>();

/** Called whenever any request finds the session gone (expired, idle, revoked or never there). */
export function onSessionLost(listener: SessionLostListener): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

let lastAnsweredAt = 0;

/** When the server last answered a request; the server counts requests as session activity. */
export function lastServerContactAt(): number {
  return lastAnsweredAt;
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toApiError(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  if (isErrorBody(body)) {
    const { code, message, retryAfterSeconds, issues } = body.error;
    return new ApiError(code, message, status, retryAfterSeconds, issues ?? []);
  }
  const retryAfter = retryAfterHeader ? Number.parseInt(retryAfterHeader, 10) : NaN;
  if (status === 429) return new ApiError('RATE_LIMITED', 'too many requests; try again later', status, Number.isFinite(retryAfter) ? retryAfter : undefined);
  return new ApiError(status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', `the server answered ${status}`, status);
}

/**
 * The one way the web app talks to the server: same-origin JSON under /api/v1, with the session
 * in an HttpOnly cookie. Resolves with the typed body or rejects with an ApiError.
 */
async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}${path}`, init);
  } catch {
    throw new ApiError('NETWORK_ERROR', 'the server cannot be reached; check your connection and try again', 0);
  }
  lastAnsweredAt = Date.now();
  const parsed = await readJson(response);
  if (response.ok) return parsed as T;
  const error = toApiError(response.status, parsed, response.headers.get('retry-after'));
  if (response.status === 401 && sessionLostCodes.has(error.code)) {
    for (const listener of sessionLostListeners) listener(error);
  }
  throw error;
}

export const http = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/**
 * Binary bodies (encrypted attachments), through the same error and session handling as JSON:
 * `putBytes` sends application/octet-stream and reads a JSON answer; `getBytes` reads raw bytes.
 */
async function requestBinary(method: 'GET' | 'PUT', path: string, body?: Blob): Promise<Response> {
  const headers: Record<string, string> = { accept: method === 'GET' ? 'application/octet-stream' : 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    init.body = body;
  }
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}${path}`, init);
  } catch {
    throw new ApiError('NETWORK_ERROR', 'the server cannot be reached; check your connection and try again', 0);
  }
  lastAnsweredAt = Date.now();
  if (response.ok) return response;
  const error = toApiError(response.status, await readJson(response), response.headers.get('retry-after'));
  if (response.status === 401 && sessionLostCodes.has(error.code)) {
    for (const listener of sessionLostListeners) listener(error);
  }
  throw error;
}

export const binary = {
  putBytes: async <T>(path: string, body: Blob) => (await readJson(await requestBinary('PUT', path, body))) as T,
  getBytes: async (path: string) => new Uint8Array(await (await requestBinary('GET', path)).arrayBuffer()),
};

/** Encodes one path segment (an id or a token) so it cannot change the route. */
export const segment = (value: string) => encodeURIComponent(value);
