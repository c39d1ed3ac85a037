/**
 * Phishing benchmark (issue 8, "Benchmark (bench/phishing)"). See README.md in this folder.
 *
 *   npx tsx bench/phishing/run.ts [--mails 10000] [--events 20000] [--db sqlite|postgres] [--quick]
 *
 * This file only points the @consilium/* packages at their sources, then starts main.ts.
 */
import { registerSourceAliases } from '../relay/source-aliases.js';

registerSourceAliases();
await import('./main.js');
