import { defineConfig } from 'vitest/config';

// `npm run test:cluster` (docs/cluster-test.md): production Temporal on PostgreSQL, one server for
// the suite. Files run one at a time: one of them kills and restarts that server.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts', 'test/versioning.test.ts'],
    globalSetup: ['test/cluster/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
