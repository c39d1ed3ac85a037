import { describe, expect, it } from 'vitest';
import { isBackupCommand } from './dispatch.js';
import { backupProgram } from './backup-main.js';
import { program } from './program.js';

describe('consilium backup starts without the server', () => {
  it('picks the backup program only for the backup command, after any global options', () => {
    expect(isBackupCommand(['backup', 'create'])).toBe(true);
    expect(isBackupCommand(['backup'])).toBe(true);
    expect(isBackupCommand(['--data-dir', '/d', 'backup', 'restore', 'latest'])).toBe(true);
    expect(isBackupCommand(['--data-dir=/d', '--database-url', 'postgres://x/y', 'backup', 'verify'])).toBe(true);
    // A directory named "backup" is an option's value, not the command.
    expect(isBackupCommand(['--data-dir', 'backup', 'serve'])).toBe(false);
    expect(isBackupCommand(['serve'])).toBe(false);
    expect(isBackupCommand(['audit', 'verify'])).toBe(false);
    expect(isBackupCommand(['user', 'create', '--name', 'backup'])).toBe(false);
    expect(isBackupCommand(['--help'])).toBe(false);
    expect(isBackupCommand(['--unknown', 'backup'])).toBe(false);
    expect(isBackupCommand([])).toBe(false);
  });

  it('has the full program’s global options and the same backup commands', () => {
    const lean = backupProgram();
    const flags = (c: typeof program) => c.options.map((o) => `${o.flags} ${o.description}`);
    expect(flags(lean)).toEqual(flags(program));
    const sub = (c: typeof program) =>
      c.commands
        .find((x) => x.name() === 'backup')!
        .commands.map((x) => x.helpInformation());
    expect(sub(lean)).toEqual(sub(program));
    expect(lean.commands.map((c) => c.name())).toEqual(['backup']);
  });
});
