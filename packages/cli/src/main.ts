import { program } from './program.js';

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`consilium: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
