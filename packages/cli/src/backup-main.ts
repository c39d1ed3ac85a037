import { Command } from 'commander';
import { registerBackupCommands } from './backup.js';

/**
 * `consilium backup …` on its own: the same global options and backup commands as the full
 * program (program.ts), but loading only the server's backup entry (`@consilium/server/backup`),
 * not the HTTP server, the routes and the web stack, which cost about a second of every backup's
 * and restore's time. main.ts picks this program when the command is `backup`.
 */
export function backupProgram(): Command {
  const program = new Command()
    .name('consilium')
    .description('Consilium: secure collaboration for healthcare professionals.')
    .option('--data-dir <dir>', 'data directory (SQLite file, secret key); env CONSILIUM_DATA_DIR', undefined)
    .option('--database-url <url>', 'postgres://... to use PostgreSQL; env DATABASE_URL', undefined)
    .showHelpAfterError();
  registerBackupCommands(program);
  return program;
}
