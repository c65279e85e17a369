/**
 * Vitest global setup: one Redis and one NATS for the whole run, announced to the test
 * workers as MCP_TEST_REDIS_URL / MCP_TEST_NATS_URL (env, inherited by forked workers, and
 * `inject('mcpTestRedisUrl' | 'mcpTestNatsUrl')`). URLs already in MCP_TEST_* or
 * REDIS_URL / NATS_URL are used as they are; otherwise local binaries are spawned.
 * `MCP_TEST_SERVICES=containers` starts both in containers instead (testcontainers).
 */
import type { TestProject } from 'vitest/node';
import { ensureServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mcpTestRedisUrl: string;
    mcpTestNatsUrl: string;
  }
}

const pick = (...values: (string | undefined)[]): string | undefined =>
  values.find((v) => v !== undefined && v !== '');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  const services = await ensureServices({
    env: {
      REDIS_URL: pick(env.MCP_TEST_REDIS_URL, env.REDIS_URL),
      NATS_URL: pick(env.MCP_TEST_NATS_URL, env.NATS_URL),
    },
    containers: env.MCP_TEST_SERVICES === 'containers',
  });
  if (services.source.redis === 'container' || services.source.nats === 'container') {
    process.stderr.write(
      `test services: redis ${services.source.redis} ${services.redisUrl}, nats ${services.source.nats} ${services.natsUrl}\n`,
    );
  }
  env.MCP_TEST_REDIS_URL = services.redisUrl;
  env.MCP_TEST_NATS_URL = services.natsUrl;
  project.provide('mcpTestRedisUrl', services.redisUrl);
  project.provide('mcpTestNatsUrl', services.natsUrl);
  return () => services.stop();
}
