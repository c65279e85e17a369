/**
 * In-memory TaskHost: the 2026-07-28 `io.modelcontextprotocol/tasks` extension (tasks/get,
 * tasks/update, tasks/cancel) and the 2025-11-25 experimental task methods (tasks/get,
 * tasks/result, tasks/list, tasks/cancel). Lifecycle and retention live in store.ts.
 */
import { MetaKey, ProtocolError, RpcError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import type { TaskHost, TaskRun } from './api.js';
import { clientSupportsTasks, missingTasksCapability } from './capability.js';
import type { MemoryTaskHostOptions } from './options.js';
import { resolveTaskHostOptions } from './options.js';
import {
  decodeCursor,
  encodeCursor,
  legacyTask,
  modernCreateResult,
  modernGetResult,
} from './record.js';
import { TaskTable } from './store.js';

/** The only legacy revision with task methods. */
const LEGACY_TASKS_VERSION = '2025-11-25';
const MODERN_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);
const LEGACY_METHODS: ReadonlySet<string> = new Set([
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);
const CANCELLED_BY_CLIENT = 'The task was cancelled by the client.';

/** A TaskHost plus what tests and operators of the in-memory host need. */
export interface MemoryTaskHost extends TaskHost {
  /** Drops expired tasks now (the timer does this periodically). Returns how many. */
  sweep(): number;
  /** Tasks currently held, expired-but-unswept included. */
  readonly size: number;
}

/** Creates the in-memory task host (see DEFAULT_TASK_HOST_OPTIONS for the defaults). */
export function createMemoryTaskHost(options?: MemoryTaskHostOptions): MemoryTaskHost {
  const table = new TaskTable(resolveTaskHostOptions(options));
  return {
    handles,
    handle: (method, params, ctx) => handle(table, method, params, ctx),
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

function handles(method: string, ctx: RequestContext): boolean {
  if (ctx.era === 'modern') return MODERN_METHODS.has(method);
  return ctx.protocolVersion === LEGACY_TASKS_VERSION && LEGACY_METHODS.has(method);
}

async function handle(
  table: TaskTable,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  if (!handles(method, ctx)) throw ProtocolError.of('MethodNotFound');
  return ctx.era === 'modern'
    ? handleModern(table, method, params, ctx)
    : handleLegacy(table, method, params, ctx);
}

function handleModern(
  table: TaskTable,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): JsonObject {
  // Gate on this request's capabilities before anything else, unknown ids included.
  if (!clientSupportsTasks(ctx.clientCapabilities)) throw missingTasksCapability();
  const t = table.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return modernGetResult(t, table.options.pollIntervalMs);
    case 'tasks/update': {
      const responses = params.inputResponses;
      if (!isJsonObject(responses)) throw invalidParams('inputResponses must be an object');
      for (const key of Object.keys(responses)) {
        if (t.pending.has(key) && !isJsonObject(responses[key])) {
          throw invalidParams('each input response must be an object');
        }
      }
      table.answer(t, responses);
      return { resultType: 'complete' };
    }
    case 'tasks/cancel':
      // Idempotent: a terminal task gets the same acknowledgement.
      table.cancel(t, CANCELLED_BY_CLIENT);
      return { resultType: 'complete' };
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

async function handleLegacy(
  table: TaskTable,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  const poll = table.options.pollIntervalMs;
  if (method === 'tasks/list') return listLegacy(table, params, ctx);
  const t = table.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return legacyTask(t, poll);
    case 'tasks/cancel':
      // 2025-11-25: cancelling a terminal task is -32602.
      if (!table.cancel(t, CANCELLED_BY_CLIENT)) {
        throw invalidParams(`Cannot cancel a task in terminal status ${t.status}`);
      }
      return legacyTask(t, poll);
    case 'tasks/result': {
      await table.waitTerminal(t, ctx.signal);
      if (t.status === 'completed' && t.result !== undefined) {
        const result = t.result;
        return {
          ...result,
          _meta: { ...result._meta, [MetaKey.RelatedTask]: { taskId: t.id } },
        };
      }
      if (t.status === 'failed' && t.error !== undefined) {
        throw new ProtocolError(t.error.code, t.error.message, t.error.data);
      }
      throw new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
    }
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

function listLegacy(table: TaskTable, params: JsonObject, ctx: RequestContext): JsonObject {
  const cursor = params.cursor;
  let after = 0;
  if (cursor !== undefined) {
    const seq = typeof cursor === 'string' ? decodeCursor(cursor) : undefined;
    if (seq === undefined) throw invalidParams('Invalid cursor');
    after = seq;
  }
  const limit = table.options.pageSize;
  const page = table.listOwned(ctx, after, limit);
  const more = page.length > limit;
  if (more) page.length = limit;
  const poll = table.options.pollIntervalMs;
  const out: JsonObject = { tasks: page.map((t) => legacyTask(t, poll)) };
  const last = page[page.length - 1];
  if (more && last !== undefined) out.nextCursor = encodeCursor(last.seq);
  return out;
}

function taskIdOf(params: JsonObject): string {
  const id = params.taskId;
  if (typeof id !== 'string' || id.length === 0) throw invalidParams('taskId must be a string');
  return id;
}

function invalidParams(message: string): ProtocolError {
  return new ProtocolError(RpcError.InvalidParams.code, message);
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
