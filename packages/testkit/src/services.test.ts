import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError, dockerDaemonAnswers, ensureServices } from './services.js';

/** Resolves to true when something accepts TCP connections at the URL's host:port. */
function accepts(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('ensureServices', () => {
  it('spawns redis-server and nats-server on free ports when no URL is given, and stops them', async () => {
    const services = await ensureServices({ env: {} });
    try {
      expect(services.source).toEqual({ redis: 'spawned', nats: 'spawned' });
      expect(services.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(services.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(await accepts(services.redisUrl)).toBe(true);
      expect(await accepts(services.natsUrl)).toBe(true);
    } finally {
      await services.stop();
    }
    expect(await accepts(services.redisUrl)).toBe(false);
    expect(await accepts(services.natsUrl)).toBe(false);
    await services.stop(); // idempotent
  });

  it('uses REDIS_URL / NATS_URL when set (and checks they answer)', async () => {
    // Servers spawned here stand in for ones an environment would name.
    await using given = await ensureServices({ env: {} });
    await using services = await ensureServices({
      env: { REDIS_URL: given.redisUrl, NATS_URL: given.natsUrl },
    });
    expect(services.source).toEqual({ redis: 'env', nats: 'env' });
    expect(services.redisUrl).toBe(given.redisUrl);
    expect(services.natsUrl).toBe(given.natsUrl);
    await services.stop();
    expect(await accepts(given.redisUrl)).toBe(true); // never stops what it did not start
  });

  it('fails loudly, naming what to install, when a binary is missing and no Docker daemon answers', async () => {
    let asked = 0;
    const err = await ensureServices({
      env: {},
      binaries: { nats: 'no-such-nats-server-binary' },
      dockerAvailable: () => {
        asked++;
        return Promise.resolve(false);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toMatch(/no-such-nats-server-binary not found.*nats-server/);
    expect((err as Error).message).toMatch(/no Docker daemon answered/);
    expect(asked).toBe(1); // only for the missing one: redis-server was found
  });

  it('falls back to a container only when Docker answers (here: the real probe)', async () => {
    // This machine has the docker CLI but no daemon: the real probe must say so, and the error
    // must still be the loud one. Where a daemon runs, this starts a NATS container instead.
    const docker = await dockerDaemonAnswers();
    const result = await ensureServices({
      env: {},
      binaries: { nats: 'no-such-nats-server-binary' },
    }).catch((e: unknown) => e);
    if (docker) {
      const services = result as Awaited<ReturnType<typeof ensureServices>>;
      expect(services.source.nats).toBe('container');
      await services.stop();
    } else {
      expect(result).toBeInstanceOf(ServiceUnavailableError);
      expect((result as Error).message).toMatch(/no Docker daemon answered/);
    }
  });

  it('with containers asked for, never falls back to the binaries or a URL', async () => {
    // No Docker-compatible API here (DOCKER_HOST names a socket nobody serves): testcontainers
    // must fail, although redis-server, nats-server and a URL are all available. The deploy
    // checks run this path for real against podman's API (scripts/deploy-check.mjs).
    await using given = await ensureServices({ env: {} });
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/mcp-cluster-test-docker.sock';
    try {
      const err = await ensureServices({
        env: { REDIS_URL: given.redisUrl, NATS_URL: given.natsUrl },
        containers: true,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('fails loudly when a given URL does not answer', async () => {
    // Port 1 on loopback: nothing listens there.
    const err = await ensureServices({
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      readyTimeoutMs: 50,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toMatch(/redis at 127\.0\.0\.1:1 did not answer/);
  });

  it('sends the URL credentials and fails at once on an error reply', async () => {
    await using given = await ensureServices({ env: {} });
    const port = new URL(given.redisUrl).port;
    // This redis has no password, so AUTH gets an error reply: no retrying until the timeout.
    const err = await ensureServices({
      env: { REDIS_URL: `redis://:secret@127.0.0.1:${port}`, NATS_URL: given.natsUrl },
      readyTimeoutMs: 20_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toMatch(/replied -ERR/);
  });
});
