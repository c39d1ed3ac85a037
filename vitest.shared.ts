import { fileURLToPath } from 'node:url';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/** Tests run against the TypeScript sources, not the build in dist/. */
export const sourceAliases = {
  '@consilium/protocol': src('protocol'),
  // The web app's subpath imports (as in packages/web/vite.config.ts), before the package itself.
  '@consilium/crypto/merkle': fileURLToPath(new URL('./packages/crypto/src/merkle/index.ts', import.meta.url)),
  '@consilium/crypto/note': fileURLToPath(new URL('./packages/crypto/src/note/index.ts', import.meta.url)),
  '@consilium/crypto': src('crypto'),
  // `consilium backup …` imports only the backup entry (packages/server/src/backup/entry.ts).
  '@consilium/server/backup': fileURLToPath(new URL('./packages/server/src/backup/entry.ts', import.meta.url)),
  '@consilium/server': src('server'),
};

/**
 * With CONSILIUM_TEST_REPORT_DIR set (CI), each run also writes vitest's JSON report there as
 * `<name>.json`, so .ci/run can add up passes and failures across runs.
 */
export function reportOptions(name: string) {
  const dir = process.env.CONSILIUM_TEST_REPORT_DIR;
  if (!dir) return {};
  return { reporters: ['default', 'json'], outputFile: { json: `${dir}/${name}.json` } };
}
