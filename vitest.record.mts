// Records the workflow histories the replay test guards (npm run record-histories).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/record/**/*.record.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
