/**
 * The task methods over the Redis record: the 2026-07-28 extension (tasks/get, tasks/update,
 * tasks/cancel) and the 2025-11-25 methods (tasks/get, tasks/result, tasks/list,
 * tasks/cancel). Same results as the in-memory host's modern.ts / legacy.ts, from any node.
 */
import { randomUUID } from 'node:crypto';
import { MetaKey, ProtocolError, RpcError, toWireError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '@mcp-cluster/server';
import {
  CANCELLED_BY_CLIENT,
  clientSupportsTasks,
  decodeTaskCursor,
  encodeTaskCursor,
  invalidParams,
  isJsonObject,
  isTerminal,
  missingTasksCapability,
  ownerOf,
  taskIdOf,
} from '@mcp-cluster/server';
import type { TaskEvents } from './events.js';
import type { ResolvedDurableOptions } from './options.js';
import { legacyTask, modernGetResult } from './record.js';
import type { StoredAnswer, TaskSnapshot } from './record.js';
import type { TaskStore } from './store.js';

/** Index rounds of legacy tasks/list at most (each reads up to a page + 1 of ids). */
const LIST_ROUNDS = 8;
/**
 * A tasks/result call holds its claim on an input it sent for this many recheck periods;
 * it refreshes the claim every round, so only a claimant that died lets it lapse.
 */
const CLAIM_RECHECKS = 3;

/** What the handlers need from the host. */
export interface HandlerHost {
  readonly options: ResolvedDurableOptions;
  readonly store: TaskStore;
  readonly events: TaskEvents;
  /** The caller's live task, or -32602 (unknown, expired and foreign ids look the same). */
  lookup(taskId: string, ctx: RequestContext): Promise<TaskSnapshot>;
  /** Cancels unless terminal; false when it already was. Aborts the run wherever it is. */
  cancel(t: TaskSnapshot, message: string): Promise<boolean>;
}

export function taskNotFound(): ProtocolError {
  return new ProtocolError(RpcError.InvalidParams.code, 'Task not found');
}

function nowIso(h: HandlerHost): string {
  return new Date(h.options.now()).toISOString();
}

async function reread(h: HandlerHost, t: TaskSnapshot): Promise<TaskSnapshot> {
  return (await h.store.read(t.id)) ?? t;
}

export async function handleModern(
  h: HandlerHost,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  // Gate on this request's capabilities before anything else, unknown ids included.
  if (!clientSupportsTasks(ctx.clientCapabilities)) throw missingTasksCapability();
  const t = await h.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return modernGetResult(t, h.options.pollIntervalMs);
    case 'tasks/update': {
      const responses = params.inputResponses;
      if (!isJsonObject(responses)) throw invalidParams('inputResponses must be an object');
      const pending = new Set(t.inputs.map(([key]) => key));
      const answers: Record<string, StoredAnswer> = {};
      for (const [key, value] of Object.entries(responses)) {
        if (!isJsonObject(value)) {
          if (pending.has(key)) throw invalidParams('each input response must be an object');
          continue;
        }
        answers[key] = { ok: value };
      }
      if (Object.keys(answers).length > 0) await h.store.answer(t.id, answers, nowIso(h));
      return { resultType: 'complete' };
    }
    case 'tasks/cancel':
      // Idempotent: a terminal task gets the same acknowledgement.
      await h.cancel(t, CANCELLED_BY_CLIENT);
      return { resultType: 'complete' };
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

export async function handleLegacy(
  h: HandlerHost,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  const poll = h.options.pollIntervalMs;
  if (method === 'tasks/list') return listLegacy(h, params, ctx);
  const t = await h.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return legacyTask(t, poll);
    case 'tasks/cancel': {
      // 2025-11-25: cancelling a terminal task is -32602.
      if (!(await h.cancel(t, CANCELLED_BY_CLIENT))) {
        const now = await reread(h, t);
        throw invalidParams(`Cannot cancel a task in terminal status ${now.status}`);
      }
      return legacyTask(await reread(h, t), poll);
    }
    case 'tasks/result':
      return taskResult(h, t, ctx);
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

/**
 * Waits for a terminal status, sending pending input requests on this call's stream
 * meanwhile. Each round registers for the task's next event before re-reading, so a change
 * in between is never missed; the recheck timer covers a lost event.
 */
async function taskResult(
  h: HandlerHost,
  first: TaskSnapshot,
  ctx: RequestContext,
): Promise<JsonObject> {
  // Outstanding client requests stop when the task goes terminal (cancel elsewhere).
  const taskOver = new AbortController();
  const off = h.events.on(first.id, (e) => {
    if (isTerminal(e.status)) taskOver.abort();
  });
  const call: ResultCall = {
    claimant: `${h.options.nodeId}:${randomUUID()}`,
    claimMs: CLAIM_RECHECKS * h.options.recheckMs,
    held: new Set(),
    signal: AbortSignal.any([ctx.signal, taskOver.signal]),
  };
  try {
    let t: TaskSnapshot | undefined = first;
    while (t !== undefined && !isTerminal(t.status)) {
      const watch = h.events.watch(first.id, h.options.recheckMs);
      try {
        t = await h.store.read(first.id);
        if (t === undefined || isTerminal(t.status)) break;
        await h.store.refreshSent(t.id, call.claimant, [...call.held], call.claimMs);
        if (t.status === 'input_required') await dispatchInput(h, t, ctx, call);
        await watch.wait(ctx.signal);
      } finally {
        watch.close();
      }
    }
    if (t?.status === 'completed' && t.result !== undefined) {
      const result = t.result;
      return { ...result, _meta: { ...result._meta, [MetaKey.RelatedTask]: { taskId: t.id } } };
    }
    if (t?.status === 'failed' && t.error !== undefined) {
      throw new ProtocolError(t.error.code, t.error.message, t.error.data);
    }
    // Cancelled, or gone while we waited (its TTL lapsed: the memory host cancels it too).
    throw new ProtocolError(RpcError.RequestCancelled.code, 'Task cancelled');
  } finally {
    off();
  }
}

/** One tasks/result call: who it is when claiming inputs, and what it holds. */
interface ResultCall {
  readonly claimant: string;
  readonly claimMs: number;
  /** Input keys sent on this call's stream and not answered yet. */
  readonly held: Set<string>;
  /** The call's signal, or the task going terminal. */
  readonly signal: AbortSignal;
}

/** Sends each pending input no live claim covers; a lost stream releases it. */
async function dispatchInput(
  h: HandlerHost,
  t: TaskSnapshot,
  ctx: RequestContext,
  call: ResultCall,
): Promise<void> {
  for (const [key, request] of t.inputs) {
    if (call.held.has(key)) continue;
    if (!(await h.store.claimSent(t.id, key, call.claimant, call.claimMs))) continue;
    const { method, params } = request;
    const tagged: JsonObject = {
      ...params,
      _meta: {
        ...(isJsonObject(params?._meta) ? params._meta : {}),
        [MetaKey.RelatedTask]: { taskId: t.id },
      },
    };
    let sent: Promise<JsonObject>;
    try {
      sent = ctx.outbound.request(method, tagged, call.signal);
    } catch {
      await h.store.releaseSent(t.id, key, call.claimant);
      continue;
    }
    call.held.add(key);
    sent
      .then<unknown, unknown>(
        (answer) => h.store.answer(t.id, { [key]: { ok: answer } }, nowIso(h)),
        (err: unknown) =>
          // The client's own error answers the input; a lost stream means "send it again later".
          err instanceof ProtocolError && !ctx.signal.aborted
            ? h.store.answer(t.id, { [key]: { err: toWireError(err) } }, nowIso(h))
            : h.store.releaseSent(t.id, key, call.claimant),
      )
      .catch((err: unknown) => h.options.onError(err, `answering input of task ${t.id}`))
      .finally(() => call.held.delete(key));
  }
}

async function listLegacy(
  h: HandlerHost,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  const cursor = params.cursor;
  let after = 0;
  if (cursor !== undefined) {
    const seq = typeof cursor === 'string' ? decodeTaskCursor(cursor) : undefined;
    if (seq === undefined) throw invalidParams('Invalid cursor');
    after = seq;
  }
  const owner = ownerOf(ctx.era, ctx.principal.id, ctx.sessionId);
  const limit = h.options.pageSize;
  const page: TaskSnapshot[] = [];
  const stale: string[] = [];
  const nowMs = h.options.now();
  for (let round = 0; round < LIST_ROUNDS && page.length <= limit; round++) {
    const want = limit + 1 - page.length;
    const ids = await h.store.ownedAfter(owner, after, want);
    const snaps = await Promise.all(ids.map(([id]) => h.store.read(id)));
    ids.forEach(([id, seq], i) => {
      const t = snaps[i];
      if (t === undefined || t.owner !== owner) stale.push(id);
      else if (t.expiresAt > nowMs && page.length <= limit) page.push(t);
      after = seq;
    });
    if (ids.length < want) break;
  }
  await h.store.unindex(owner, stale);
  const more = page.length > limit;
  if (more) page.length = limit;
  const poll = h.options.pollIntervalMs;
  const out: JsonObject = { tasks: page.map((t) => legacyTask(t, poll)) };
  const last = page[page.length - 1];
  if (more && last !== undefined) out.nextCursor = encodeTaskCursor(last.seq);
  return out;
}
