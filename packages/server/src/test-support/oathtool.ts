import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Debian's `oathtool` (oath-toolkit) is an independent RFC 6238 implementation: codes it
 * computes are what a phone authenticator would show. Tests use it as the TOTP peer.
 */
export function oathtoolPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v oathtool'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/**
 * Makes sure `oathtool` is there: installs it with apt-get when running as root (updating the
 * package lists first if apt does not know it), otherwise fails with what to run.
 */
export function ensureOathtool(): string {
  const found = oathtoolPath();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error('oathtool is missing: run `apt-get install oathtool` (as root) to run the TOTP interoperability tests');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'oathtool'], { encoding: 'utf8', env });
  let r = install();
  if (r.status !== 0) {
    const update = spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    if (update.status !== 0) throw new Error(`apt-get update failed: ${update.stderr}`);
    r = install();
  }
  if (r.status !== 0) throw new Error(`apt-get install -y oathtool failed: ${r.stderr}`);
  const installed = oathtoolPath();
  if (!installed) throw new Error('oathtool is still missing after apt-get install');
  return installed;
}

/** "2026-11-23 09:00:30 UTC": the form `oathtool --now` parses. */
export function oathtoolTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The TOTP code oathtool computes for a base32 secret at a given time (SHA-1, 6 digits, 30 s). */
export function oathtoolTotp(secret: string, at: Date): string {
  return execFileSync('oathtool', ['--totp', '-b', secret, '--now', oathtoolTime(at)], { encoding: 'utf8' }).trim();
}
