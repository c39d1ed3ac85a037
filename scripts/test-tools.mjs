#!/usr/bin/env node
// The Debian programs the test suite uses as real peers: Chromium (browser tests), oathtool (TOTP
// interop) and age (backup interop). Installs the missing ones with apt-get when run as root;
// otherwise stops and says exactly what to run. Used by `npm test` before the suites start.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TOOLS = [
  { pkg: 'chromium', paths: ['/usr/bin/chromium', '/usr/bin/chromium-browser'], env: 'CHROMIUM_PATH' },
  { pkg: 'oathtool', paths: ['/usr/bin/oathtool'] },
  { pkg: 'age', paths: ['/usr/bin/age'] },
  // The SFTP backup target test starts its own sshd and makes system accounts: as root only
  // (it skips, saying why, otherwise), so it is not asked for when not root.
  { pkg: 'openssh-server', paths: ['/usr/sbin/sshd'], rootOnly: true },
];

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const present = (tool) => (tool.env && process.env[tool.env] ? existsSync(process.env[tool.env]) : tool.paths.some((p) => existsSync(p)));
const missing = TOOLS.filter((t) => !present(t) && (isRoot || !t.rootOnly)).map((t) => t.pkg);
if (missing.length === 0) process.exit(0);

if (!isRoot) {
  console.error(`The tests need Debian's ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed.\nRun:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  process.exit(2);
}
console.log(`Installing ${missing.join(', ')} for the tests (apt-get)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
if (r.status !== 0) {
  console.error(`apt-get install failed; install by hand: apt-get install -y ${missing.join(' ')}`);
  process.exit(2);
}
