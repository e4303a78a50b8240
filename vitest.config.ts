import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons are not safe to load in worker threads that get torn down: use processes.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
