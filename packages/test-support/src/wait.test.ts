/** The bounded waits: results, timeouts that name what was awaited, the probe's last error. */
import { describe, expect, it } from 'vitest';
import { WaitTimeoutError, eventually, within } from './wait.js';

describe('within', () => {
  it('resolves with the promise when it settles in time', async () => {
    expect(await within(1_000, 'a value', Promise.resolve(7))).toBe(7);
  });

  it('rejects with a WaitTimeoutError naming what was awaited', async () => {
    const never = new Promise<never>(() => undefined);
    const err = await within(20, 'the never promise', never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({
      name: 'WaitTimeoutError',
      message: 'timed out after 20 ms: the never promise',
    });
  });

  it("passes the promise's own rejection through", async () => {
    await expect(within(1_000, 'x', Promise.reject(new Error('own')))).rejects.toThrow('own');
  });
});

describe('eventually', () => {
  it('probes until a value other than undefined, throws counting as not yet', async () => {
    let probes = 0;
    const value = await eventually(
      'the third probe',
      () => {
        probes++;
        if (probes === 1) throw new Error('not ready');
        return probes === 3 ? 'ready' : undefined;
      },
      { pollMs: 1 },
    );
    expect(value).toBe('ready');
    expect(probes).toBe(3);
  });

  it('rejects after timeoutMs with the last probe error as cause', async () => {
    const cause = new Error('still failing');
    const err = await eventually(
      'a failing probe',
      () => {
        throw cause;
      },
      { timeoutMs: 30, pollMs: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({ message: 'not reached within 30 ms: a failing probe', cause });
  });
});
