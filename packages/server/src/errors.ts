import { errorStatus, type ErrorCode } from '@consilium/protocol';

/** The one error type rules throw; the HTTP layer turns it into `{ error: { code, message } }`. */
export class ConsiliumError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'ConsiliumError';
    this.code = code;
    this.status = errorStatus[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const notFound = (what: string) => new ConsiliumError('NOT_FOUND', `${what} not found`);
export const forbidden = (why: string) => new ConsiliumError('FORBIDDEN', why);
