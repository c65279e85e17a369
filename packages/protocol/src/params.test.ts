import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import type { JsonObject } from './jsonrpc.js';
import { validateParams } from './params.js';
import type { ParamsEra } from './params.js';

function errorOf(method: string, params: JsonObject | undefined, era: ParamsEra): ProtocolError {
  try {
    validateParams(method, params, era);
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error(`${method}: expected -32602`);
}

const init = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'c', version: '1' },
};
const ref = { type: 'ref/prompt', name: 'p' };
const arg = { name: 'a', value: 'v' };

type Ok = [method: string, params: JsonObject | undefined, era: ParamsEra];
const VALID: Ok[] = [
  ['initialize', init, 'legacy'],
  ['ping', undefined, 'legacy'],
  ['ping', {}, 'legacy'],
  ['tools/list', undefined, 'legacy'],
  ['tools/list', { cursor: 'abc' }, 'modern'],
  ['resources/list', {}, 'legacy'],
  ['resources/templates/list', { cursor: 'x' }, 'legacy'],
  ['prompts/list', {}, 'modern'],
  ['tools/call', { name: 't' }, 'legacy'],
  ['tools/call', { name: 't', arguments: { a: 1 }, task: { ttl: 1000 } }, 'legacy'],
  ['tools/call', { name: 't', arguments: {}, _meta: { progressToken: 'p' } }, 'modern'],
  [
    'tools/call',
    { name: 't', inputResponses: { user_name: { action: 'accept' } }, requestState: 's' },
    'modern',
  ],
  ['resources/read', { uri: 'test://x' }, 'legacy'],
  ['resources/read', { uri: 'test://x', inputResponses: {} }, 'modern'],
  ['resources/subscribe', { uri: 'test://x' }, 'legacy'],
  ['resources/unsubscribe', { uri: 'test://x' }, 'legacy'],
  ['prompts/get', { name: 'p', arguments: { a: 'b' } }, 'legacy'],
  ['prompts/get', { name: 'p', requestState: 'x' }, 'modern'],
  ['completion/complete', { ref, argument: arg }, 'legacy'],
  [
    'completion/complete',
    { ref: { type: 'ref/resource', uri: 'u' }, argument: arg, context: { arguments: { a: 'b' } } },
    'modern',
  ],
  ['logging/setLevel', { level: 'warning' }, 'legacy'],
  ['server/discover', {}, 'modern'],
  ['subscriptions/listen', { notifications: {} }, 'modern'],
  [
    'subscriptions/listen',
    {
      notifications: {
        toolsListChanged: true,
        promptsListChanged: false,
        resourcesListChanged: true,
        resourceSubscriptions: ['a', 'b'],
      },
    },
    'modern',
  ],
  ['tasks/get', { taskId: 't' }, 'modern'],
  ['tasks/cancel', { taskId: 't' }, 'legacy'],
  ['tasks/result', { taskId: 't' }, 'legacy'],
  ['tasks/update', { taskId: 't', inputResponses: {} }, 'modern'],
  ['tasks/list', { cursor: 'c' }, 'legacy'],
  // Unknown methods are the engine's (-32601), not ours.
  ['unknown/method', { anything: [1] }, 'legacy'],
  // Removed in 2026-07-28: no -32602 before the engine's -32601 (fixtures 6.0 row 11).
  ['initialize', {}, 'modern'],
  ['logging/setLevel', { level: 'nope' }, 'modern'],
  ['resources/subscribe', {}, 'modern'],
  ['tasks/result', {}, 'modern'],
  // Modern-only methods on a legacy session: the engine answers -32601.
  ['subscriptions/listen', {}, 'legacy'],
  ['tasks/update', {}, 'legacy'],
];

type Bad = [method: string, params: JsonObject | undefined, era: ParamsEra, message: string];
const INVALID: Bad[] = [
  ['initialize', undefined, 'legacy', 'initialize: params.protocolVersion must be a string'],
  [
    'initialize',
    { ...init, protocolVersion: 1 },
    'legacy',
    'initialize: params.protocolVersion must be a string',
  ],
  [
    'initialize',
    { ...init, capabilities: [] },
    'legacy',
    'initialize: params.capabilities must be an object',
  ],
  [
    'initialize',
    { ...init, clientInfo: 'c' },
    'legacy',
    'initialize: params.clientInfo must be an object',
  ],
  [
    'initialize',
    { ...init, clientInfo: { version: '1' } },
    'legacy',
    'initialize: params.clientInfo.name must be a string',
  ],
  [
    'initialize',
    { ...init, clientInfo: { name: 'c' } },
    'legacy',
    'initialize: params.clientInfo.version must be a string',
  ],
  ['tools/list', { cursor: 5 }, 'legacy', 'tools/list: params.cursor must be a string'],
  ['resources/list', { cursor: null }, 'modern', 'resources/list: params.cursor must be a string'],
  [
    'resources/templates/list',
    { cursor: {} },
    'legacy',
    'resources/templates/list: params.cursor must be a string',
  ],
  ['prompts/list', { cursor: true }, 'modern', 'prompts/list: params.cursor must be a string'],
  ['tools/call', undefined, 'legacy', 'tools/call: params.name must be a string'],
  ['tools/call', { name: 3 }, 'modern', 'tools/call: params.name must be a string'],
  [
    'tools/call',
    { name: 't', arguments: [] },
    'legacy',
    'tools/call: params.arguments must be an object',
  ],
  [
    'tools/call',
    { name: 't', arguments: 'x' },
    'modern',
    'tools/call: params.arguments must be an object',
  ],
  ['tools/call', { name: 't', task: 5 }, 'legacy', 'tools/call: params.task must be an object'],
  [
    'tools/call',
    { name: 't', task: { ttl: '1' } },
    'legacy',
    'tools/call: params.task.ttl must be a number',
  ],
  [
    'tools/call',
    { name: 't', inputResponses: null },
    'modern',
    'tools/call: params.inputResponses must be an object',
  ],
  [
    'tools/call',
    { name: 't', inputResponses: { user_name: 12345 } },
    'modern',
    'tools/call: params.inputResponses.user_name must be an object',
  ],
  [
    'tools/call',
    { name: 't', requestState: 1 },
    'modern',
    'tools/call: params.requestState must be a string',
  ],
  ['tools/call', { name: 't', _meta: 'x' }, 'legacy', 'tools/call: params._meta must be an object'],
  [
    'tools/call',
    { name: 't', _meta: { progressToken: {} } },
    'legacy',
    'tools/call: params._meta.progressToken must be a string or a number',
  ],
  ['resources/read', {}, 'legacy', 'resources/read: params.uri must be a string'],
  [
    'resources/read',
    { uri: 'u', inputResponses: [] },
    'modern',
    'resources/read: params.inputResponses must be an object',
  ],
  ['resources/subscribe', { uri: 1 }, 'legacy', 'resources/subscribe: params.uri must be a string'],
  ['resources/unsubscribe', {}, 'legacy', 'resources/unsubscribe: params.uri must be a string'],
  ['prompts/get', {}, 'legacy', 'prompts/get: params.name must be a string'],
  [
    'prompts/get',
    { name: 'p', arguments: [] },
    'legacy',
    'prompts/get: params.arguments must be an object',
  ],
  [
    'prompts/get',
    { name: 'p', arguments: { a: 1 } },
    'modern',
    'prompts/get: params.arguments.a must be a string',
  ],
  [
    'prompts/get',
    { name: 'p', inputResponses: 'x' },
    'modern',
    'prompts/get: params.inputResponses must be an object',
  ],
  [
    'completion/complete',
    { argument: arg },
    'legacy',
    'completion/complete: params.ref must be an object',
  ],
  [
    'completion/complete',
    { ref: { type: 'ref/tool', name: 'x' }, argument: arg },
    'legacy',
    'completion/complete: params.ref.type must be "ref/prompt" or "ref/resource"',
  ],
  [
    'completion/complete',
    { ref: { type: 'ref/prompt' }, argument: arg },
    'modern',
    'completion/complete: params.ref.name must be a string',
  ],
  [
    'completion/complete',
    { ref: { type: 'ref/resource', name: 'x' }, argument: arg },
    'legacy',
    'completion/complete: params.ref.uri must be a string',
  ],
  [
    'completion/complete',
    { ref },
    'legacy',
    'completion/complete: params.argument must be an object',
  ],
  [
    'completion/complete',
    { ref, argument: { value: 'v' } },
    'legacy',
    'completion/complete: params.argument.name must be a string',
  ],
  [
    'completion/complete',
    { ref, argument: { name: 'a' } },
    'legacy',
    'completion/complete: params.argument.value must be a string',
  ],
  [
    'completion/complete',
    { ref, argument: arg, context: 1 },
    'legacy',
    'completion/complete: params.context must be an object',
  ],
  [
    'completion/complete',
    { ref, argument: arg, context: { arguments: [] } },
    'modern',
    'completion/complete: params.context.arguments must be an object',
  ],
  [
    'completion/complete',
    { ref, argument: arg, context: { arguments: { x: 1 } } },
    'modern',
    'completion/complete: params.context.arguments.x must be a string',
  ],
  [
    'logging/setLevel',
    {},
    'legacy',
    'logging/setLevel: params.level must be a logging level (debug ... emergency)',
  ],
  [
    'logging/setLevel',
    { level: 'verbose' },
    'legacy',
    'logging/setLevel: params.level must be a logging level (debug ... emergency)',
  ],
  [
    'subscriptions/listen',
    {},
    'modern',
    'subscriptions/listen: params.notifications must be an object',
  ],
  [
    'subscriptions/listen',
    { notifications: { toolsListChanged: 'yes' } },
    'modern',
    'subscriptions/listen: params.notifications.toolsListChanged must be a boolean',
  ],
  [
    'subscriptions/listen',
    { notifications: { promptsListChanged: 1 } },
    'modern',
    'subscriptions/listen: params.notifications.promptsListChanged must be a boolean',
  ],
  [
    'subscriptions/listen',
    { notifications: { resourcesListChanged: null } },
    'modern',
    'subscriptions/listen: params.notifications.resourcesListChanged must be a boolean',
  ],
  [
    'subscriptions/listen',
    { notifications: { resourceSubscriptions: 'u' } },
    'modern',
    'subscriptions/listen: params.notifications.resourceSubscriptions must be an array',
  ],
  [
    'subscriptions/listen',
    { notifications: { resourceSubscriptions: ['a', 2] } },
    'modern',
    'subscriptions/listen: params.notifications.resourceSubscriptions[1] must be a string',
  ],
  ['tasks/get', {}, 'modern', 'tasks/get: params.taskId must be a string'],
  ['tasks/get', { taskId: 1 }, 'legacy', 'tasks/get: params.taskId must be a string'],
  ['tasks/cancel', {}, 'modern', 'tasks/cancel: params.taskId must be a string'],
  ['tasks/result', {}, 'legacy', 'tasks/result: params.taskId must be a string'],
  [
    'tasks/update',
    { inputResponses: {} },
    'modern',
    'tasks/update: params.taskId must be a string',
  ],
  [
    'tasks/update',
    { taskId: 't' },
    'modern',
    'tasks/update: params.inputResponses must be an object',
  ],
  [
    'tasks/update',
    { taskId: 't', inputResponses: { k: 'v' } },
    'modern',
    'tasks/update: params.inputResponses.k must be an object',
  ],
  ['tasks/list', { cursor: 1 }, 'legacy', 'tasks/list: params.cursor must be a string'],
];

describe('validateParams', () => {
  it.each(VALID)('%s (%j, %s) passes', (method, params, era) => {
    expect(() => validateParams(method, params, era)).not.toThrow();
  });

  it.each(INVALID)('%s %j (%s) -> -32602 %j', (method, params, era, message) => {
    const err = errorOf(method, params, era);
    expect(err.code).toBe(-32602);
    expect(err.httpStatus).toBe(400);
    expect(err.message).toBe(message);
  });
});
