/** Global options that take a value (they may come before the command name). */
const VALUE_OPTIONS = new Set(['--data-dir', '--database-url']);

/** Whether `args` (process.argv without node and the script) name the `backup` command. */
export function isBackupCommand(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) {
      if (a.includes('=') && VALUE_OPTIONS.has(a.slice(0, a.indexOf('=')))) continue;
      return false; // --help, --version or an unknown option: the full program answers
    }
    return a === 'backup';
  }
  return false;
}
