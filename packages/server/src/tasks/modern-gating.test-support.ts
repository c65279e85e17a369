/**
 * The 2026-07-28 tasks extension's gating, task ids and method table, checked against any
 * task host (see modern-contract.test-support.ts for the lifecycle half).
 */
import { expect, it } from 'vitest';
import { Extension } from '@mcp-cluster/protocol';
import type { CallToolResult } from '@mcp-cluster/protocol';
import { fakeCtx, rpcError } from './fakes.test-support.js';
import { getTask } from './host-harness.test-support.js';
import type { TaskHostHarness } from './host-harness.test-support.js';

const never = (): Promise<CallToolResult> => new Promise(() => {});

/** Per-request gating, task ids and the era's method table: independent of how runs run. */
export function modernGatingTests(harness: () => TaskHostHarness): void {
  it('answers -32021 naming the extension when this request lacks it, even for unknown ids', async () => {
    const h = harness();
    for (const capabilities of [
      {},
      { extensions: {} },
      { extensions: { [Extension.Tasks]: true } },
    ]) {
      const ctx = fakeCtx({ capabilities });
      for (const [method, params] of [
        ['tasks/get', { taskId: 'gate-test' }],
        ['tasks/update', { taskId: 'gate-test', inputResponses: {} }],
        ['tasks/cancel', { taskId: 'gate-test' }],
      ] as const) {
        const err = await rpcError(h.handle(method, params, ctx));
        expect(err.code).toBe(-32021);
        expect(err.data).toEqual({
          requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } },
        });
      }
    }
  });

  it('gates per request: a task created with the extension is invisible to a request without it', async () => {
    const h = harness();
    const { taskId } = await h.creator.start(never, fakeCtx(), {});
    const err = await rpcError(h.handle('tasks/get', { taskId }, fakeCtx({ capabilities: {} })));
    expect(err.code).toBe(-32021);
    // Another sessionless request of the same principal, with the extension, sees it.
    expect((await getTask(h, taskId as string, fakeCtx())).status).toBe('working');
  });

  it('answers -32602 for unknown or malformed task ids', async () => {
    const h = harness();
    const ctx = fakeCtx();
    const unknown = { taskId: 'tasks-conformance-nonexistent-12345', inputResponses: {} };
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      expect((await rpcError(h.handle(method, unknown, ctx))).code).toBe(-32602);
    }
    expect((await rpcError(h.handle('tasks/get', {}, ctx))).code).toBe(-32602);
    expect((await rpcError(h.handle('tasks/get', { taskId: 7 }, ctx))).code).toBe(-32602);
  });

  it('serves only get/update/cancel in the modern era', () => {
    const h = harness();
    const ctx = fakeCtx();
    expect(h.handles('tasks/get', ctx)).toBe(true);
    expect(h.handles('tasks/update', ctx)).toBe(true);
    expect(h.handles('tasks/cancel', ctx)).toBe(true);
    expect(h.handles('tasks/result', ctx)).toBe(false);
    expect(h.handles('tasks/list', ctx)).toBe(false);
  });
}
