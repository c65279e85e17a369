/**
 * 2025-11-25 `tasks/result` on the in-memory table: wait for a terminal status, sending the
 * task's pending input requests on this call's stream meanwhile. A lost stream hands the
 * request back for the next tasks/result; the client's own error answers it.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import { isTerminal } from './record.js';
import type { TaskRecord } from './record.js';
import type { TaskTable } from './store.js';
import { withRelatedTask } from './wire.js';

/** Resolves with `t` once terminal; rejects with -32010 when the call's signal aborts. */
export async function settledInMemory(
  table: TaskTable,
  t: TaskRecord,
  ctx: RequestContext,
): Promise<TaskRecord> {
  while (!isTerminal(t.status)) {
    if (t.status === 'input_required') dispatchInput(table, t, ctx);
    await table.waitChange(t, ctx.signal);
  }
  return t;
}

function dispatchInput(table: TaskTable, t: TaskRecord, ctx: RequestContext): void {
  let signal: AbortSignal | undefined;
  for (const [key, entry] of t.pending) {
    if (entry.dispatched) continue;
    entry.dispatched = true;
    signal ??= AbortSignal.any([ctx.signal, t.controller.signal]);
    const { method, params } = entry.request;
    let sent: Promise<JsonObject>;
    try {
      sent = ctx.outbound.request(method, withRelatedTask(params, t.id), signal);
    } catch {
      table.releaseInput(t, key);
      continue;
    }
    sent.then(
      (answer) => table.answer(t, { [key]: answer }),
      (err: unknown) => {
        // The client's own error answers the input; a lost stream means "send it again later".
        if (err instanceof ProtocolError && !ctx.signal.aborted) table.failInput(t, key, err);
        else table.releaseInput(t, key);
      },
    );
  }
}
