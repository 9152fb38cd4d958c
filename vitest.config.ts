import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // vitest's summary says only "N skipped"; the second reporter adds one line of the reasons
    reporters: ['default', './test/skip-reasons.ts'],
    // kernels are multi-threaded already; two test files at a time on a 2-core machine
    pool: 'forks',
    maxWorkers: 2,
    // hang guards only (the suite must pass on a busy machine): five times an idle run's need
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
