/**
 * Hand-written checks of request params per method and era, with messages that name the
 * offending field ("tools/call: params.name must be a string"). Shapes only: whether a tool
 * exists or a cursor decodes is the engine's business. No zod: this runs on every request.
 */
import { ProtocolError, RpcError } from './errors.js';
import type { JsonObject } from './jsonrpc.js';
import { isLoggingLevel } from './types.js';

export type ParamsEra = 'legacy' | 'modern';

type Params = Readonly<Record<string, unknown>>;
type Check = (method: string, p: Params) => void;

const EMPTY: Params = Object.freeze({});

function fail(method: string, path: string, what: string): never {
  throw new ProtocolError(RpcError.InvalidParams.code, `${method}: params.${path} must be ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(method: string, p: Params, key: string): void {
  if (typeof p[key] !== 'string') fail(method, key, 'a string');
}

function optStr(method: string, p: Params, key: string): void {
  const v = p[key];
  if (v !== undefined && typeof v !== 'string') fail(method, key, 'a string');
}

function optObj(method: string, p: Params, key: string): void {
  const v = p[key];
  if (v !== undefined && !isObject(v)) fail(method, key, 'an object');
}

function optStringMap(method: string, v: unknown, path: string): void {
  if (v === undefined) return;
  if (!isObject(v)) fail(method, path, 'an object');
  for (const k in v) {
    if (typeof v[k] !== 'string') fail(method, `${path}.${k}`, 'a string');
  }
}

/** MRTR retry fields (2026-07-28): each input response is a result object. */
function inputResponses(method: string, p: Params, required: boolean): void {
  const v = p.inputResponses;
  if (v === undefined && !required) return;
  if (!isObject(v)) fail(method, 'inputResponses', 'an object');
  for (const k in v) {
    if (!isObject(v[k])) fail(method, `inputResponses.${k}`, 'an object');
  }
}

function mrtr(method: string, p: Params): void {
  inputResponses(method, p, false);
  optStr(method, p, 'requestState');
}

const none: Check = () => {};

const paginated: Check = (m, p) => optStr(m, p, 'cursor');

const taskId: Check = (m, p) => str(m, p, 'taskId');

const initialize: Check = (m, p) => {
  str(m, p, 'protocolVersion');
  if (!isObject(p.capabilities)) fail(m, 'capabilities', 'an object');
  const info = p.clientInfo;
  if (!isObject(info)) fail(m, 'clientInfo', 'an object');
  if (typeof info.name !== 'string') fail(m, 'clientInfo.name', 'a string');
  if (typeof info.version !== 'string') fail(m, 'clientInfo.version', 'a string');
};

const toolsCallLegacy: Check = (m, p) => {
  str(m, p, 'name');
  optObj(m, p, 'arguments');
  // 2025-11-25 task augmentation.
  const task = p.task;
  if (task !== undefined) {
    if (!isObject(task)) fail(m, 'task', 'an object');
    if (task.ttl !== undefined && typeof task.ttl !== 'number') fail(m, 'task.ttl', 'a number');
  }
};

const toolsCallModern: Check = (m, p) => {
  str(m, p, 'name');
  optObj(m, p, 'arguments');
  mrtr(m, p);
};

const uri: Check = (m, p) => str(m, p, 'uri');

const resourcesReadModern: Check = (m, p) => {
  str(m, p, 'uri');
  mrtr(m, p);
};

const promptsGetLegacy: Check = (m, p) => {
  str(m, p, 'name');
  optStringMap(m, p.arguments, 'arguments');
};

const promptsGetModern: Check = (m, p) => {
  promptsGetLegacy(m, p);
  mrtr(m, p);
};

const complete: Check = (m, p) => {
  const ref = p.ref;
  if (!isObject(ref)) fail(m, 'ref', 'an object');
  if (ref.type === 'ref/prompt') {
    if (typeof ref.name !== 'string') fail(m, 'ref.name', 'a string');
  } else if (ref.type === 'ref/resource') {
    if (typeof ref.uri !== 'string') fail(m, 'ref.uri', 'a string');
  } else {
    fail(m, 'ref.type', '"ref/prompt" or "ref/resource"');
  }
  const arg = p.argument;
  if (!isObject(arg)) fail(m, 'argument', 'an object');
  if (typeof arg.name !== 'string') fail(m, 'argument.name', 'a string');
  if (typeof arg.value !== 'string') fail(m, 'argument.value', 'a string');
  const ctx = p.context;
  if (ctx !== undefined) {
    if (!isObject(ctx)) fail(m, 'context', 'an object');
    optStringMap(m, ctx.arguments, 'context.arguments');
  }
};

const setLevel: Check = (m, p) => {
  if (!isLoggingLevel(p.level)) fail(m, 'level', 'a logging level (debug ... emergency)');
};

const LISTEN_FLAGS = ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const;

const listen: Check = (m, p) => {
  const n = p.notifications;
  if (!isObject(n)) fail(m, 'notifications', 'an object');
  for (const flag of LISTEN_FLAGS) {
    const v = n[flag];
    if (v !== undefined && typeof v !== 'boolean') fail(m, `notifications.${flag}`, 'a boolean');
  }
  const subs = n.resourceSubscriptions;
  if (subs !== undefined) {
    if (!Array.isArray(subs)) fail(m, 'notifications.resourceSubscriptions', 'an array');
    for (let i = 0; i < subs.length; i++) {
      if (typeof subs[i] !== 'string') {
        fail(m, `notifications.resourceSubscriptions[${i}]`, 'a string');
      }
    }
  }
};

const tasksUpdate: Check = (m, p) => {
  str(m, p, 'taskId');
  inputResponses(m, p, true);
};

/** Methods both eras share, with the same shape. */
const COMMON: readonly (readonly [string, Check])[] = [
  ['tools/list', paginated],
  ['resources/list', paginated],
  ['resources/templates/list', paginated],
  ['prompts/list', paginated],
  ['completion/complete', complete],
  ['tasks/get', taskId],
  ['tasks/cancel', taskId],
];

const LEGACY = new Map<string, Check>([
  ...COMMON,
  ['initialize', initialize],
  ['ping', none],
  ['tools/call', toolsCallLegacy],
  ['resources/read', uri],
  ['resources/subscribe', uri],
  ['resources/unsubscribe', uri],
  ['prompts/get', promptsGetLegacy],
  ['logging/setLevel', setLevel],
  ['tasks/result', taskId],
  ['tasks/list', paginated],
]);

const MODERN = new Map<string, Check>([
  ...COMMON,
  ['server/discover', none],
  ['subscriptions/listen', listen],
  ['tools/call', toolsCallModern],
  ['resources/read', resourcesReadModern],
  ['prompts/get', promptsGetModern],
  ['tasks/update', tasksUpdate],
]);

/** Every request method of either era: what a metric may name (others are one bucket). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([...LEGACY.keys(), ...MODERN.keys()]);

/**
 * Throws ProtocolError -32602 when `params` does not have the shape `method` needs in `era`.
 * Methods the era does not know (unknown, or removed/added by 2026-07-28) are not checked:
 * the engine answers them -32601. Modern `_meta` rules are `classifyPost`/`readModernMeta`'s.
 */
export function validateParams(
  method: string,
  params: JsonObject | undefined,
  era: ParamsEra,
): void {
  const check = (era === 'modern' ? MODERN : LEGACY).get(method);
  if (check === undefined) return;
  const p: Params = params ?? EMPTY;
  const meta = p._meta;
  if (meta !== undefined) {
    if (!isObject(meta)) fail(method, '_meta', 'an object');
    const token = meta.progressToken;
    if (
      token !== undefined &&
      typeof token !== 'string' &&
      !(typeof token === 'number' && Number.isFinite(token))
    ) {
      fail(method, '_meta.progressToken', 'a string or a number');
    }
  }
  check(method, p);
}
