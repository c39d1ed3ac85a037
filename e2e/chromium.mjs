// Finds Debian's Chromium for the browser tests, installing it when we are root and it is missing.
// Playwright's own browser download cannot work here (and should not be needed): we drive the
// distribution's build through playwright-core.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium() {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error('Chromium is needed for the browser tests and is not installed.\nRun:  sudo apt-get update && sudo apt-get install -y chromium\n(or set CHROMIUM_PATH to a Chromium binary).');
    process.exit(2);
  }
  console.log('Installing Debian chromium for the browser tests (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error('apt-get install chromium failed; install it by hand: apt-get install -y chromium');
    process.exit(2);
  }
  const installed = findChromium();
  if (!installed) {
    console.error('chromium was installed but no binary was found at ' + CHROMIUM_CANDIDATES.join(' or '));
    process.exit(2);
  }
  return installed;
}
