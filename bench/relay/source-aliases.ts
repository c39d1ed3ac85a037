/**
 * Resolves @consilium/protocol and @consilium/crypto to their TypeScript sources (as the vitest
 * config does), so the bench measures the code in the tree, not whatever build sits in dist/.
 * Must run before anything imports those packages: entry files call it, then import the rest.
 */
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packages = fileURLToPath(new URL('../../packages/', import.meta.url));

export function registerSourceAliases(): void {
  const map: Record<string, string> = {
    '@consilium/protocol': pathToFileURL(`${packages}protocol/src/index.ts`).href,
    '@consilium/crypto': pathToFileURL(`${packages}crypto/src/index.ts`).href,
  };
  // Hand the mapped file to the next resolver (tsx's), which knows how to load .ts.
  const hook = `const map = ${JSON.stringify(map)};
export async function resolve(specifier, context, next) {
  return next(Object.hasOwn(map, specifier) ? map[specifier] : specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
