import type { FastifyInstance } from 'fastify';
import { ConsiliumError } from '../errors.js';

/** Deeper JSON than this is refused before any code walks it (recursive walkers can exhaust the stack). */
export const MAX_JSON_DEPTH = 32;

/** Iterative depth check: itself immune to the nesting it guards against. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/**
 * JSON is the only body type the API takes. Prototype-poisoning keys are refused (as Fastify's
 * default parser does) and nesting is bounded.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(new ConsiliumError('MALFORMED_JSON', 'body is empty; send a JSON object'), undefined);
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return done(new ConsiliumError('VALIDATION_FAILED', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    try {
      const parsed: unknown = JSON.parse(text, (key, value: unknown) => {
        if (key === '__proto__' || key === 'constructor') throw new SyntaxError('forbidden key');
        return value;
      });
      done(null, parsed);
    } catch {
      done(new ConsiliumError('MALFORMED_JSON', 'body is not valid JSON'), undefined);
    }
  });
}
