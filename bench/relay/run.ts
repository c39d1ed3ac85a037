/**
 * Relay benchmark (issue 3, "Benchmark (bench/relay)"). See README.md in this folder.
 *
 *   npx tsx bench/relay/run.ts [--devices 1000,5000,10000] [--groups 2,10,100]
 *                              [--db sqlite|postgres] [--seconds 10] [--help]
 *
 * This file only points the @consilium/* packages at their sources, then starts main.ts.
 */
import { registerSourceAliases } from './source-aliases.js';

registerSourceAliases();
await import('./main.js');
