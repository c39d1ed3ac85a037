import type { Command } from 'commander';
import { isBackupCommand } from './dispatch.js';

// `consilium backup …` loads only the backup code (backup-main.ts); every other command the full program.
const load = async (): Promise<Command> => (isBackupCommand(process.argv.slice(2)) ? (await import('./backup-main.js')).backupProgram() : (await import('./program.js')).program);

load()
  .then((program) => program.parseAsync(process.argv))
  .catch((err: unknown) => {
    process.stderr.write(`consilium: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
