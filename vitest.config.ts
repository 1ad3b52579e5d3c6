import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    // Safety limits, not speed targets: several tests start server processes, which is slow on a busy 2-core machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // `expect.poll` waits for something the server or the browser does in its own time; 1 s (the default) is
    // too little for a loaded machine. A limit, not a target: a poll ends as soon as its condition holds.
    expect: { poll: { timeout: 60_000 } },
    // Two cores: more forks only thrash. Files are independent (each opens its own database).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
