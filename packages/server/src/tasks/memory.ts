/**
 * In-memory TaskHost: the 2026-07-28 `io.modelcontextprotocol/tasks` extension and the
 * 2025-11-25 experimental task methods (methods.ts) over the in-memory table. Lifecycle and
 * retention live in store.ts.
 */
import type { TaskHost, TaskRun } from './api.js';
import { settledInMemory } from './memory-result.js';
import { handleTaskMethod, servesTaskMethod } from './methods.js';
import type { TaskBackend } from './methods.js';
import type { MemoryTaskHostOptions } from './options.js';
import { resolveTaskHostOptions } from './options.js';
import type { TaskRecord } from './record.js';
import { TaskTable } from './store.js';
import { createTaskResult } from './wire.js';

/** A TaskHost plus what tests and operators of the in-memory host need. */
export interface MemoryTaskHost extends TaskHost {
  /** Drops expired tasks now (the timer does this periodically). Returns how many. */
  sweep(): number;
  /** Tasks currently held, expired-but-unswept included. */
  readonly size: number;
}

/** The table as the task methods see it; its records are live, so a re-read is the record. */
function tableBackend(table: TaskTable): TaskBackend<TaskRecord> {
  return {
    pollIntervalMs: table.options.pollIntervalMs,
    pageSize: table.options.pageSize,
    lookup: (taskId, ctx) => table.lookup(taskId, ctx),
    reread: (t) => t,
    *pendingInputs(t) {
      for (const [key, entry] of t.pending) yield [key, entry.request] as const;
    },
    answer: (t, responses) => void table.answer(t, responses),
    cancel: (t, message) => table.cancel(t, message),
    settled: (t, ctx) => settledInMemory(table, t, ctx),
    listOwned: (ctx, afterSeq, limit) => table.listOwned(ctx, afterSeq, limit),
  };
}

/** Creates the in-memory task host (see DEFAULT_TASK_HOST_OPTIONS for the defaults). */
export function createMemoryTaskHost(options?: MemoryTaskHostOptions): MemoryTaskHost {
  const table = new TaskTable(resolveTaskHostOptions(options));
  const backend = tableBackend(table);
  return {
    handles: servesTaskMethod,
    handle: (method, params, ctx) => handleTaskMethod(backend, method, params, ctx),
    start(run: TaskRun, ctx, opts) {
      try {
        const t = table.create(run, ctx, opts.ttlMs);
        return Promise.resolve(createTaskResult(ctx.era, t, table.options.pollIntervalMs));
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
