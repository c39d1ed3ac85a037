#!/usr/bin/env node
// Runs the browser tests: makes sure Chromium and the web build are there, then runs vitest
// with the e2e config. Used by `npm test`; on its own: `node e2e/run.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureChromium } from './chromium.mjs';

const chromium = ensureChromium();
if (!existsSync('packages/web/dist/index.html')) {
  console.error('packages/web/dist is missing: run `npm run build` first');
  process.exit(2);
}
const r = spawnSync('npx', ['vitest', 'run', '--config', 'e2e/vitest.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(r.status ?? 1);
