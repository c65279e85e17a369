import { describe, expect, it } from 'vitest';
import { windowKey } from './limits.js';

describe('windowKey', () => {
  it('windows are fixed, aligned to the epoch, and name the principal', () => {
    expect(windowKey('p', 1_000, 2_300)).toEqual({ key: '2:p', ttlMs: 700 });
    expect(windowKey('p', 1_000, 3_000)).toEqual({ key: '3:p', ttlMs: 1_000 });
  });
});
