/**
 * Startup against a Redis or NATS that is not there: a ServiceUnreachableError naming the
 * URL with its password redacted, quickly, and nothing reported through onError.
 */
import { describe, expect, it } from 'vitest';
import { NatsEventBus } from './bus/nats.js';
import { ServiceUnreachableError, redactUrl } from './errors.js';
import { connectRedis } from './redis.js';
import { closedPort } from '@mcp-cluster/test-support';

describe('redactUrl', () => {
  it('replaces a password, keeps everything else', () => {
    expect(redactUrl('redis://user:pw@h:6379/2')).toBe('redis://user:***@h:6379/2');
    expect(redactUrl('redis://:pw@h:6379')).toBe('redis://:***@h:6379');
    expect(redactUrl('nats://h:4222')).toBe('nats://h:4222');
    expect(redactUrl('not a url //u:pw@h')).toBe('not a url //***@h');
  });
});

describe('unreachable services at startup', () => {
  it('connectRedis fails with the redacted URL and does not call onError', async () => {
    const port = await closedPort();
    const errors: Error[] = [];
    const err = await connectRedis(`redis://app:s3cret@127.0.0.1:${port}`, (e) =>
      errors.push(e),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    const e = err as ServiceUnreachableError;
    expect(e.service).toBe('Redis');
    expect(e.message).toMatch(
      new RegExp(`^Redis at redis://app:\\*\\*\\*@127\\.0\\.0\\.1:${port} unreachable \\(`),
    );
    expect(e.message).not.toContain('s3cret');
    expect(errors).toEqual([]);
  });

  it('NatsEventBus.connect fails with the URL', async () => {
    const port = await closedPort();
    const err = await NatsEventBus.connect({ url: `nats://127.0.0.1:${port}` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServiceUnreachableError);
    expect((err as ServiceUnreachableError).service).toBe('NATS');
    expect((err as Error).message).toMatch(
      new RegExp(`^NATS at nats://127\\.0\\.0\\.1:${port} unreachable`),
    );
  });
});
