/** The 2026-07-28 `io.modelcontextprotocol/tasks` extension: tasks/get, tasks/update, tasks/cancel. */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { RequestContext } from '../context.js';
import { clientSupportsTasks, missingTasksCapability } from './capability.js';
import type { TaskBackend } from './methods.js';
import { CANCELLED_BY_CLIENT, invalidParams, isJsonObject, taskIdOf } from './params.js';
import { modernGetResult } from './wire.js';
import type { StoredTaskView } from './wire.js';

export const MODERN_TASK_METHODS: ReadonlySet<string> = new Set([
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
]);

export async function handleModern<T extends StoredTaskView>(
  backend: TaskBackend<T>,
  method: string,
  params: JsonObject,
  ctx: RequestContext,
): Promise<JsonObject> {
  // Gate on this request's capabilities before anything else, unknown ids included.
  if (!clientSupportsTasks(ctx.clientCapabilities)) throw missingTasksCapability();
  const t = await backend.lookup(taskIdOf(params), ctx);
  switch (method) {
    case 'tasks/get':
      return modernGetResult(t, backend.pendingInputs(t), backend.pollIntervalMs);
    case 'tasks/update':
      await backend.answer(t, inputResponsesOf(params, backend.pendingInputs(t)));
      return { resultType: 'complete' };
    case 'tasks/cancel':
      // Idempotent: a terminal task gets the same acknowledgement.
      await backend.cancel(t, CANCELLED_BY_CLIENT);
      return { resultType: 'complete' };
    default:
      throw ProtocolError.of('MethodNotFound');
  }
}

/**
 * The answers to pending keys of `inputResponses`; one that is not an object is -32602.
 * Keys not pending (answered meanwhile, or never ours) are ignored, as a store would.
 */
function inputResponsesOf(
  params: JsonObject,
  pending: Iterable<readonly [string, unknown]>,
): Record<string, JsonObject> {
  const responses = params.inputResponses;
  if (!isJsonObject(responses)) throw invalidParams('inputResponses must be an object');
  const keys = new Set<string>();
  for (const [key] of pending) keys.add(key);
  const answers: Record<string, JsonObject> = {};
  for (const [key, value] of Object.entries(responses)) {
    if (!keys.has(key)) continue;
    if (!isJsonObject(value)) throw invalidParams('each input response must be an object');
    answers[key] = value;
  }
  return answers;
}
