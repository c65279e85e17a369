/**
 * In-memory TaskHost: the 2026-07-28 `io.modelcontextprotocol/tasks` extension (modern.ts)
 * and the 2025-11-25 experimental task methods (legacy.ts). Lifecycle and retention live in
 * store.ts.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import type { TaskHost, TaskRun } from './api.js';
import { LEGACY_TASKS_VERSION, LEGACY_TASK_METHODS, handleLegacy } from './legacy.js';
import { MODERN_TASK_METHODS, handleModern } from './modern.js';
import type { MemoryTaskHostOptions } from './options.js';
import { resolveTaskHostOptions } from './options.js';
import { legacyTask, modernCreateResult } from './record.js';
import { TaskTable } from './store.js';

/** A TaskHost plus what tests and operators of the in-memory host need. */
export interface MemoryTaskHost extends TaskHost {
  /** Drops expired tasks now (the timer does this periodically). Returns how many. */
  sweep(): number;
  /** Tasks currently held, expired-but-unswept included. */
  readonly size: number;
}

function handles(method: string, ctx: RequestContext): boolean {
  if (ctx.era === 'modern') return MODERN_TASK_METHODS.has(method);
  return ctx.protocolVersion === LEGACY_TASKS_VERSION && LEGACY_TASK_METHODS.has(method);
}

/** Creates the in-memory task host (see DEFAULT_TASK_HOST_OPTIONS for the defaults). */
export function createMemoryTaskHost(options?: MemoryTaskHostOptions): MemoryTaskHost {
  const table = new TaskTable(resolveTaskHostOptions(options));
  return {
    handles,
    handle(method, params, ctx) {
      if (!handles(method, ctx)) return Promise.reject(ProtocolError.of('MethodNotFound'));
      if (ctx.era === 'legacy') return handleLegacy(table, method, params, ctx);
      try {
        return Promise.resolve(handleModern(table, method, params, ctx));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error('task method failed'));
      }
    },
    start(run: TaskRun, ctx: RequestContext, opts: { readonly ttlMs?: number }) {
      try {
        const t = table.create(run, ctx, opts.ttlMs);
        const poll = table.options.pollIntervalMs;
        return Promise.resolve(
          ctx.era === 'modern' ? modernCreateResult(t, poll) : { task: legacyTask(t, poll) },
        );
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error('task start failed'));
      }
    },
    close() {
      table.close();
      return Promise.resolve();
    },
    sweep: () => table.sweep(),
    get size() {
      return table.size;
    },
  };
}
