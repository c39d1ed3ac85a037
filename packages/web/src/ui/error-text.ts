import { ApiError } from '../api/client';

/** Server messages are lower-case clauses ("e-mail or password is wrong"); show them as sentences. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** "45 seconds", "3 minutes", "1 hour 5 minutes". */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours} hour${hours === 1 ? '' : 's'}${rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : ''}`;
}

/** A user-facing sentence for anything a request or a browser API may throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const message = asSentence(error.message);
    if (error.code === 'RATE_LIMITED' && error.retryAfterSeconds !== undefined) {
      return `${message} You can try again in ${formatWait(error.retryAfterSeconds)}.`;
    }
    return message;
  }
  if (error instanceof Error && error.message) return asSentence(error.message);
  if (typeof error === 'string') return asSentence(error);
  return 'Something went wrong. Please try again.';
}
