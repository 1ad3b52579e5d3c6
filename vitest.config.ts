import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    // Safety limits, not speed targets: several tests start server processes, which is slow on a busy 2-core machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: more forks only thrash. Files are independent (each opens its own database).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
