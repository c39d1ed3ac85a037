import { defineConfig } from 'vitest/config';
import { reportOptions, sourceAliases } from './vitest.shared.js';

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    ...reportOptions(process.env.CONSILIUM_TEST_PG ? 'unit-postgres' : 'unit-sqlite'),
  },
});
