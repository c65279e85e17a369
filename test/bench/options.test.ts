import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LATENCY_CONNECTIONS,
  DEFAULT_LATENCY_REQUESTS,
  DEFAULT_LATENCY_WARMUP_MS,
  resolveOptions,
  TARGET_IDS,
} from './options.js';

describe('resolveOptions: targets', () => {
  it('runs every target by default, the observability ones (i) and (j) included', () => {
    expect(resolveOptions([], {}).targets).toEqual(TARGET_IDS);
    expect(TARGET_IDS).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });

  it('selects (i) and (j) like the others, flag over env, in a fixed order', () => {
    expect(resolveOptions(['--targets', 'j,a,i'], { BENCH_TARGETS: 'b' }).targets).toEqual([
      'a',
      'i',
      'j',
    ]);
    expect(resolveOptions([], { BENCH_TARGETS: 'i' }).targets).toEqual(['i']);
  });

  it('rejects an unknown target and lists the known ones', () => {
    expect(() => resolveOptions(['--targets', 'a,k'], {})).toThrow(
      'unknown target "k" (expected some of a,b,c,d,e,f,g,h,i,j)',
    );
  });
});

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
