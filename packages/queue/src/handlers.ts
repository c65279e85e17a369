/**
 * The durable host as a TaskBackend: @mcp-cluster/server serves the task methods of both eras
 * (the same code as the in-memory host), over the Redis record, from any node. What is this
 * host's own: answers and cancels go through scripts, a 2025-11-25 input is claimed per
 * tasks/result stream (one stream sends it; a dead stream's claim lapses), and tasks/list
 * walks the owner index.
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError, toWireError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext, TaskBackend } from '@mcp-cluster/server';
import { isTerminal, ownerOf, withRelatedTask } from '@mcp-cluster/server';
import type { TaskEvents } from './events.js';
import type { ResolvedDurableOptions } from './options.js';
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

function nowIso(h: HandlerHost): string {
  return new Date(h.options.now()).toISOString();
}

/** The task methods' view of the durable host. */
export function durableBackend(h: HandlerHost): TaskBackend<TaskSnapshot> {
  return {
    pollIntervalMs: h.options.pollIntervalMs,
    pageSize: h.options.pageSize,
    lookup: (taskId, ctx) => h.lookup(taskId, ctx),
    reread: async (t) => (await h.store.read(t.id)) ?? t,
    pendingInputs: (t) => t.inputs,
    async answer(t, responses) {
      const answers: Record<string, StoredAnswer> = {};
      for (const [key, value] of Object.entries(responses)) answers[key] = { ok: value };
      if (Object.keys(answers).length > 0) await h.store.answer(t.id, answers, nowIso(h));
    },
    cancel: (t, message) => h.cancel(t, message),
    settled: (t, ctx) => settled(h, t, ctx),
    listOwned: (ctx, afterSeq, limit) => listOwned(h, ctx, afterSeq, limit),
  };
}

/**
 * 2025-11-25 tasks/result: waits for a terminal status (undefined: the record is gone),
 * sending pending input requests on this call's stream meanwhile. Each round registers for
 * the task's next event before re-reading, so a change in between is never missed; the
 * recheck timer covers a lost event.
 */
async function settled(
  h: HandlerHost,
  first: TaskSnapshot,
  ctx: RequestContext,
): Promise<TaskSnapshot | undefined> {
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
    return t;
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
    let sent: Promise<JsonObject>;
    try {
      sent = ctx.outbound.request(method, withRelatedTask(params, t.id), call.signal);
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

/** The caller's live tasks after `afterSeq` from its owner index, pruning ids whose record is gone. */
async function listOwned(
  h: HandlerHost,
  ctx: RequestContext,
  afterSeq: number,
  limit: number,
): Promise<TaskSnapshot[]> {
  const owner = ownerOf(ctx.era, ctx.principal.id, ctx.sessionId);
  const page: TaskSnapshot[] = [];
  const stale: string[] = [];
  const nowMs = h.options.now();
  let after = afterSeq;
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
  return page;
}
