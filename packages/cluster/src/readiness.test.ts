import { describe, expect, it } from 'vitest';
import { READINESS_REASONS, readiness } from './readiness.js';

describe('readiness', () => {
  it('is ready with nothing wrong', () => {
    expect(readiness({ draining: false, redis: true, nats: true, workers: 2 })).toEqual({
      ready: true,
      reasons: [],
      degraded: [],
    });
  });

  it('names every reason it is not ready, and NATS away only as degraded', () => {
    expect(readiness({ draining: true, redis: false, nats: false, workers: 0 })).toEqual({
      ready: false,
      reasons: [READINESS_REASONS.draining, READINESS_REASONS.redis, READINESS_REASONS.workers],
      degraded: [READINESS_REASONS.nats],
    });
    expect(readiness({ draining: false, redis: true, nats: false })).toEqual({
      ready: true,
      reasons: [],
      degraded: ['nats disconnected'],
    });
  });

  it('counts a held worker as capacity, degraded: a gateway must stay in line for its trial', () => {
    expect(readiness({ draining: false, redis: true, nats: true, workers: 2, held: 2 })).toEqual({
      ready: true,
      reasons: [],
      degraded: [READINESS_REASONS.held],
    });
  });

  it('counts workers only when given (workers have none to count)', () => {
    expect(readiness({ draining: false, redis: true, nats: true }).ready).toBe(true);
  });
});
