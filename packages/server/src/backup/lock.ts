import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export class BackupBusyError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One backup run at a time per data directory (the scheduler, the CLI and the API may all ask).
 * The lock file names its holder's pid; a lock left by a process that no longer runs (kill -9)
 * is taken over.
 */
export async function acquireRunLock(dataDir: string): Promise<{ release(): Promise<void> }> {
  const file = path.join(dataDir, 'backup.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid > 0 && alive(pid)) throw new BackupBusyError(`a backup is already running (pid ${pid})`);
      await rm(file, { force: true });
    }
  }
  throw new BackupBusyError('could not take the backup lock');
}
