/** The 2026-07-28 `io.modelcontextprotocol/tasks` extension: tasks/get, tasks/update, tasks/cancel. */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import { clientSupportsTasks, missingTasksCapability } from './capability.js';
import { modernGetResult } from './record.js';
import type { TaskTable } from './store.js';
import { CANCELLED_BY_CLIENT, invalidParams, isJsonObject, taskIdOf } from './params.js';

export const MODERN_TASK_METHODS: ReadonlySet<string> = new Set([
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
]);

export function handleModern(
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
