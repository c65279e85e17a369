import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LATENCY_CONNECTIONS,
  DEFAULT_LATENCY_REQUESTS,
  DEFAULT_LATENCY_WARMUP_MS,
  resolveOptions,
} from './options.js';

describe('resolveOptions: the latency step', () => {
  it('defaults', () => {
    const o = resolveOptions([], {});
    expect(o).toMatchObject({
      latencyRequests: DEFAULT_LATENCY_REQUESTS,
      latencyWarmupMs: DEFAULT_LATENCY_WARMUP_MS,
      latencyConnections: DEFAULT_LATENCY_CONNECTIONS,
    });
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      BENCH_LATENCY_REQUESTS: '100',
      BENCH_LATENCY_WARMUP: '10',
      BENCH_LATENCY_CONNECTIONS: '2',
    };
    expect(resolveOptions([], env)).toMatchObject({
      latencyRequests: 100,
      latencyWarmupMs: 10,
      latencyConnections: 2,
    });
    expect(
      resolveOptions(['--latency-requests', '0', '--latency-connections', '1'], env),
    ).toMatchObject({ latencyRequests: 0, latencyWarmupMs: 10, latencyConnections: 1 });
  });

  it('rejects a connection count under 1 and a negative request count', () => {
    expect(() => resolveOptions(['--latency-connections', '0'], {})).toThrow(
      'latency-connections must be an integer >= 1, got "0"',
    );
    expect(() => resolveOptions([], { BENCH_LATENCY_REQUESTS: '-1' })).toThrow(
      'latency-requests must be an integer >= 0, got "-1"',
    );
  });
});
