/**
 * Wire parity with the in-memory host: the same scenario through both hosts gives the same
 * results, key for key, once ids, timestamps and minted input keys are normalized.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext, TaskHost, TaskRun } from '@mcp-cluster/server';
import { createMemoryTaskHost } from '@mcp-cluster/server';
import { deferred, fakeCtx, text } from '@mcp-cluster/server/test-support/tasks/fakes';
import { jobFor, purge, startNode, testPrefix, until } from './durable.test-support.js';
import type { Node } from './durable.test-support.js';

const prefix = testPrefix();
let node: Node | undefined;
let memory: TaskHost | undefined;

afterEach(async () => {
  await Promise.all([node?.host.close(), memory?.close()]);
  await purge(prefix);
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Replaces ids, timestamps and minted keys by placeholders, keeping key order. */
function normalize(value: unknown, taskId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v, taskId));
  if (typeof value === 'string') {
    if (value === taskId) return '<id>';
    return ISO.test(value) ? '<time>' : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'inputRequests' && typeof v === 'object' && v !== null) {
      out[k] = Object.values(v).map((r) => normalize(r, taskId));
    } else if (k === 'nextCursor') {
      out[k] = '<cursor>';
    } else {
      out[k] = normalize(v, taskId);
    }
  }
  return out;
}

/** One scenario: start, observe while parked, answer/cancel, observe the end. */
async function scenario(
  host: TaskHost,
  settled: (taskId: string, ctx: RequestContext, status: string) => Promise<void>,
  ctx: RequestContext,
  end: 'answer' | 'cancel',
  durable = false,
): Promise<unknown[]> {
  const gate = deferred<void>();
  const run: TaskRun = async (port) => {
    await gate.promise;
    const a = await port.input({ q: { method: 'roots/list' } });
    return { ...text(JSON.stringify(a)), structuredContent: { ok: true } };
  };
  const modern = ctx.era === 'modern';
  const created = await host.start(
    run,
    ctx,
    durable ? { ttlMs: 5_000, job: jobFor(run) } : { ttlMs: 5_000 },
  );
  const taskId = (modern ? created.taskId : (created.task as JsonObject).taskId) as string;
  const seen: unknown[] = [created];
  seen.push(await host.handle('tasks/get', { taskId }, ctx));
  gate.resolve();
  await settled(taskId, ctx, 'input_required');
  const parked = await host.handle('tasks/get', { taskId }, ctx);
  seen.push(parked);
  if (!modern) seen.push(await host.handle('tasks/list', {}, ctx));
  if (end === 'cancel') {
    seen.push(await host.handle('tasks/cancel', { taskId }, ctx));
    seen.push(await host.handle('tasks/get', { taskId }, ctx));
    return seen.map((v) => normalize(v, taskId));
  }
  if (modern) {
    const [key] = Object.keys(parked.inputRequests as JsonObject);
    seen.push(
      await host.handle(
        'tasks/update',
        { taskId, inputResponses: { [key as string]: { roots: [] } } },
        ctx,
      ),
    );
    await settled(taskId, ctx, 'completed');
    seen.push(await host.handle('tasks/get', { taskId }, ctx));
  } else {
    const caller = fakeCtx({
      era: 'legacy',
      sessionId: 's1',
      request: () => Promise.resolve({ roots: [] }),
    });
    seen.push(await host.handle('tasks/result', { taskId }, caller));
    seen.push(await host.handle('tasks/get', { taskId }, ctx));
  }
  return seen.map((v) => normalize(v, taskId));
}

function pollUntil(host: TaskHost) {
  return (taskId: string, ctx: RequestContext, status: string) =>
    until(async () => (await host.handle('tasks/get', { taskId }, ctx)).status === status, status);
}

describe('wire parity with the in-memory host', () => {
  for (const era of ['modern', 'legacy'] as const) {
    for (const [end, durable] of [
      ['answer', false],
      ['cancel', false],
      ['answer', true],
      ['cancel', true],
    ] as const) {
      it(`${era} era, ${durable ? 'durable job' : 'local run'}, ${end}: identical results`, async () => {
        memory = createMemoryTaskHost({ pollIntervalMs: 700 });
        node = await startNode(prefix, 'A', { pollIntervalMs: 700 });
        const ctx = () => fakeCtx(era === 'modern' ? {} : { era, sessionId: 's1' });
        const expected = await scenario(memory, pollUntil(memory), ctx(), end);
        const actual = await scenario(node.host, pollUntil(node.host), ctx(), end, durable);
        expect(actual).toEqual(expected);
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      });
    }
  }
});
