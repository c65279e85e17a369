/**
 * The bench's own unit tests (pure functions and the latency client against a loopback
 * server; no Redis, NATS or target processes). The root config does not include test/bench,
 * so they run with `vitest run --config test/bench/vitest.config.ts`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
  },
});
