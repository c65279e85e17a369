import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/security/**/*.test.ts',
      'test/bench/*.test.ts',
      'test/deploy/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Real Redis and NATS for *.redis.test.ts / *.nats.test.ts (env URLs or spawned binaries).
    globalSetup: ['packages/testkit/src/vitest-global-setup.ts'],
  },
});
