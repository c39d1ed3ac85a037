import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { loadConfig, openDeps } from '@consilium/server';
import { registerBackupCommands } from './backup.js';

/** A fresh program per call (commander keeps option values on its command objects). */
function cli() {
  const p = new Command().option('--data-dir <dir>').option('--database-url <url>').exitOverride();
  registerBackupCommands(p);
  return p;
}

const dir = mkdtempSync(path.join(tmpdir(), 'consilium-cli-backup-'));
const dataDir = path.join(dir, 'data');
let out: string[] = [];

async function run(...args: string[]): Promise<string> {
  out = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await cli().parseAsync(['node', 'consilium', '--data-dir', dataDir, ...args]);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return out.join('\n');
}

beforeAll(async () => {
  // A data directory with a database (the server's init).
  const { database } = await openDeps(loadConfig({ dataDir, logLevel: 'silent' }, {}));
  await database.close();
});
afterEach(() => {
  process.exitCode = undefined;
  delete process.env.CONSILIUM_BACKUP_RECIPIENTS;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('consilium backup', () => {
  it('every command has --help text', () => {
    const backup = cli().commands.find((c) => c.name() === 'backup')!;
    const names = backup.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['keygen', 'create', 'verify', 'restore', 'drill', 'verifier-key', 'status', 'prune']));
    for (const c of backup.commands) expect(c.helpInformation()).toMatch(/Usage: .*backup/);
    const verify = backup.commands.find((c) => c.name() === 'verify')!.helpInformation();
    expect(verify).toContain('--read-data-subset <n/t>');
    expect(backup.commands.find((c) => c.name() === 'restore')!.helpInformation()).toContain('--identity <file>');
  });

  it('keygen, create, verify, verify --read-data, restore and drill', async () => {
    const ops = path.join(dir, 'ops.key');
    const escrow = path.join(dir, 'escrow.key');
    const r1 = (await run('backup', 'keygen', '--out', ops)).trim();
    const r2 = (await run('backup', 'keygen', '--out', escrow)).trim();
    expect(r1).toMatch(/^age1/);
    await expect(run('backup', 'keygen', '--out', ops)).rejects.toThrow(/exists/);
    process.env.CONSILIUM_BACKUP_RECIPIENTS = `${r1},${r2}`;
    expect(await run('backup', 'create')).toMatch(/snapshot 1 .* on local/);
    expect(await run('backup', 'create', '--recipient', r1, '--recipient', r2)).toMatch(/snapshot 2/);
    expect(await run('backup', 'verify')).toMatch(/^OK {2}target local: 2 snapshots/);
    expect(await run('backup', 'verify', '--read-data', '--identity', escrow)).toMatch(/OK .*read-data, 4 objects decrypted/);
    await expect(run('backup', 'verify', '--read-data')).rejects.toThrow(/--identity/);

    const verifierKey = (await run('backup', 'verifier-key')).trim();
    const to = path.join(dir, 'restored');
    const restored = await run('backup', 'restore', 'latest', '--identity', ops, '--to', to, '--verifier-key', verifierKey);
    expect(restored).toMatch(/restored snapshot 2/);
    expect(restored).not.toMatch(/FAILED/);
    expect(existsSync(path.join(to, 'consilium.sqlite'))).toBe(true);

    const drill = await run('backup', 'drill', '--identity', ops, '--report-dir', path.join(dir, 'reports'));
    expect(drill).toMatch(/^PASSED {2}drill of snapshot 2/);
    expect(readdirSync(path.join(dir, 'reports')).sort().map((f) => path.extname(f))).toEqual(['.html', '.json', '.md']);
    expect(await run('backup', 'status')).toMatch(/last drill {3}success/);

    // Both snapshots were written today: one daily slot keeps 2, keep-last 1 keeps 2 too; 1 may go.
    const plan = await run('backup', 'prune', '--keep-last', '1', '--keep-daily', '1', '--keep-weekly', '0', '--keep-monthly', '0', '--dry-run');
    expect(plan).toMatch(/keep {4}snapshot 2 {2}\(last verified, newest, daily \d{4}-\d\d-\d\d\)/);
    expect(plan).toMatch(/would prune snapshot 1/);
    expect(readdirSync(path.join(dataDir, 'backups', 'snapshots'))).toHaveLength(2);
    await expect(run('backup', 'prune', '--keep-last', '0', '--dry-run')).rejects.toThrow(/at least 1/);
  });

  it('verify exits 1 and names the damage', async () => {
    const objects = path.join(dataDir, 'backups', 'objects');
    const sub = readdirSync(objects)[0]!;
    const file = path.join(objects, sub, readdirSync(path.join(objects, sub))[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(file, bytes);
    const text = await run('backup', 'verify');
    expect(text).toMatch(/^FAILED/);
    expect(text).toMatch(/\[chunk\]/);
    expect(process.exitCode).toBe(1);
  });
});
