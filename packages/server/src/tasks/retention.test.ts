import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult } from '@mcp-cluster/protocol';
import type { TaskPort } from './api.js';
import { createMemoryTaskHost } from './memory.js';
import type { MemoryTaskHost } from './memory.js';
import { DEFAULT_TASK_HOST_OPTIONS, resolveTaskHostOptions } from './options.js';
import { ManualClock, deferred, fakeCtx, flush, text } from './fakes.test-support.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});

let host: MemoryTaskHost;
afterEach(async () => {
  vi.useRealTimers();
  await host.close();
});

async function status(taskId: string): Promise<unknown> {
  return host.handle('tasks/get', { taskId }, fakeCtx()).then(
    (r) => r.status,
    (e: unknown) => (e instanceof ProtocolError ? e.code : e),
  );
}

describe('task retention', () => {
  it('a result stays readable for ttlMs after completion, then is gone (-32602)', async () => {
    const clock = new ManualClock();
    host = createMemoryTaskHost({ now: clock.now });
    const done = deferred<CallToolResult>();
    const created = await host.start(() => done.promise, fakeCtx(), { ttlMs: 10_000 });
    const taskId = created.taskId as string;

    clock.advance(8_000);
    done.resolve(text('late'));
    await flush();
    // Past creation + ttl, but completion restarted the clock.
    clock.advance(9_999);
    expect(await status(taskId)).toBe('completed');
    const got = await host.handle('tasks/get', { taskId }, fakeCtx());
    expect(got.lastUpdatedAt).toBe(new Date(clock.ms - 9_999).toISOString());
    expect(got.createdAt).toBe(new Date(clock.ms - 17_999).toISOString());
    clock.advance(1);
    expect(await status(taskId)).toBe(-32602);
    expect(host.size).toBe(0);
  });

  it('a task still running when its TTL lapses is cancelled and dropped by the sweep', async () => {
    const clock = new ManualClock();
    host = createMemoryTaskHost({ now: clock.now });
    let port: TaskPort | undefined;
    const created = await host.start(
      (p) => {
        port = p;
        return never();
      },
      fakeCtx(),
      { ttlMs: 5_000 },
    );
    const kept = await host.start(never, fakeCtx(), { ttlMs: 60_000 });
    clock.advance(4_999);
    expect(host.sweep()).toBe(0);
    clock.advance(1);
    expect(host.sweep()).toBe(1);
    expect(port?.signal.aborted).toBe(true);
    expect(host.size).toBe(1);
    expect(await status(created.taskId as string)).toBe(-32602);
    expect(await status(kept.taskId as string)).toBe('working');
  });

  it('the unref’d sweep timer drops expired tasks on its own', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const clock = new ManualClock();
    host = createMemoryTaskHost({ now: clock.now, sweepIntervalMs: 1_000 });
    await host.start(() => Promise.resolve(text('x')), fakeCtx(), { ttlMs: 2_000 });
    await flush();
    clock.advance(2_000);
    expect(host.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(host.size).toBe(0);
  });

  it('clamps the requested TTL to [minTtlMs, maxTtlMs] and defaults it', async () => {
    host = createMemoryTaskHost({ minTtlMs: 1_000, maxTtlMs: 100_000, defaultTtlMs: 50_000 });
    const ctx = fakeCtx();
    expect((await host.start(never, ctx, { ttlMs: 10 })).ttlMs).toBe(1_000);
    expect((await host.start(never, ctx, { ttlMs: 1e12 })).ttlMs).toBe(100_000);
    expect((await host.start(never, ctx, {})).ttlMs).toBe(50_000);
    expect((await host.start(never, ctx, { ttlMs: Number.NaN })).ttlMs).toBe(50_000);
    expect((await host.start(never, ctx, { ttlMs: 2_500.4 })).ttlMs).toBe(2_500);
  });
});

describe('task host lifecycle', () => {
  it('close() aborts running tasks, forgets them, and refuses new ones', async () => {
    host = createMemoryTaskHost();
    const ports: TaskPort[] = [];
    for (let i = 0; i < 3; i++) {
      await host.start(
        (p) => {
          ports.push(p);
          return never();
        },
        fakeCtx(),
        {},
      );
    }
    await host.close();
    expect(ports.every((p) => p.signal.aborted)).toBe(true);
    expect(host.size).toBe(0);
    const err = await host.start(never, fakeCtx(), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(-32016);
  });

  it('uses the injected idFactory and retries ids already in use', async () => {
    const ids = ['a', 'a', 'b'];
    host = createMemoryTaskHost({ idFactory: () => ids.shift() ?? 'a' });
    expect((await host.start(never, fakeCtx(), {})).taskId).toBe('a');
    expect((await host.start(never, fakeCtx(), {})).taskId).toBe('b');
    // A factory stuck on used ids is a local fault, not a protocol error.
    const err = await host.start(never, fakeCtx(), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ProtocolError);
  });

  it('default ids are unique, URL-safe and 128-bit', async () => {
    host = createMemoryTaskHost();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const id = (await host.start(never, fakeCtx(), {})).taskId as string;
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(50);
  });

  it('validates options once, at creation', () => {
    host = createMemoryTaskHost();
    expect(() => resolveTaskHostOptions({ pollIntervalMs: 0 })).toThrow(RangeError);
    expect(() => resolveTaskHostOptions({ pageSize: 1.5 })).toThrow(RangeError);
    expect(() => resolveTaskHostOptions({ minTtlMs: 10, maxTtlMs: 5 })).toThrow(RangeError);
    const resolved = resolveTaskHostOptions({ defaultTtlMs: 10 });
    expect(resolved.defaultTtlMs).toBe(DEFAULT_TASK_HOST_OPTIONS.minTtlMs);
    expect(Object.isFrozen(resolved)).toBe(true);
  });
});
