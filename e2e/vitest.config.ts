import { defineConfig } from 'vitest/config';
import { reportOptions, sourceAliases } from '../vitest.shared.js';

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    root: '.',
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    ...reportOptions('e2e'),
  },
});
