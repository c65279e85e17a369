/**
 * What an MCP request asks to do, as the authorizer sees it: one action kind (the part of a
 * permission before the target) and, for kinds that have one, the target name or uri taken
 * from the request's params. Methods that read or change nothing a permission guards
 * (handshake, ping, notifications, logging level, discovery, listen) map to no action.
 */

import type { ActionKind } from '@mcp-cluster/config';

/** The action kinds are the permission grammar's, which the configuration checks at load. */
export type { ActionKind, TargetSyntax } from '@mcp-cluster/config';
export { ACTION_KINDS, isActionKind } from '@mcp-cluster/config';

export interface Action {
  readonly kind: ActionKind;
  /** Tool or prompt name, resource uri, or method name; absent for kinds without a target. */
  readonly name?: string;
}

/** The permission an action needs, e.g. `tools:call:delete_db`, `tasks:get`, `method:x/y`. */
export function permissionOf(action: Action): string {
  return action.name === undefined ? action.kind : `${action.kind}:${action.name}`;
}

/**
 * Methods that need no permission. List methods are here too: they are always answered,
 * and `Authorizer.filterList` removes the items the principal may not use.
 */
export const UNGUARDED_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
]);

/** A list method's result: which array holds the items, and which item field is checked. */
export interface ListShape {
  readonly field: string;
  readonly key: string;
  readonly kind: ActionKind;
}

export const LIST_SHAPES: ReadonlyMap<string, ListShape> = new Map([
  ['tools/list', { field: 'tools', key: 'name', kind: 'tools:call' }],
  ['prompts/list', { field: 'prompts', key: 'name', kind: 'prompts:get' }],
  ['resources/list', { field: 'resources', key: 'uri', kind: 'resources:read' }],
  [
    'resources/templates/list',
    { field: 'resourceTemplates', key: 'uriTemplate', kind: 'resources:read' },
  ],
]);

const TASK_KINDS: ReadonlyMap<string, ActionKind> = new Map([
  ['tasks/get', 'tasks:get'],
  ['tasks/list', 'tasks:list'],
  ['tasks/cancel', 'tasks:cancel'],
  ['tasks/result', 'tasks:result'],
  ['tasks/update', 'tasks:update'],
]);

type Params = Readonly<Record<string, unknown>> | undefined;

/**
 * A string field of params, or `''` when it is absent or not a string: such a request is
 * checked as the empty name, which only wildcard grants cover, and the engine then refuses
 * its params (-32602). Authorization never throws on malformed params.
 */
function field(params: Params, key: string): string {
  const value = params?.[key];
  return typeof value === 'string' ? value : '';
}

function completionAction(params: Params): Action {
  const ref = params?.ref;
  if (typeof ref === 'object' && ref !== null && !Array.isArray(ref)) {
    const r = ref as Readonly<Record<string, unknown>>;
    // Completing a prompt's or a resource template's argument reveals values of that
    // component, so it needs the same permission as using it.
    if (r.type === 'ref/prompt') return { kind: 'prompts:get', name: field(r, 'name') };
    if (r.type === 'ref/resource') return { kind: 'resources:read', name: field(r, 'uri') };
  }
  return { kind: 'completion:complete' };
}

/**
 * The action `method` with `params` performs, or undefined when it needs no permission.
 * Methods not known here map to `{ kind: 'method', name: method }` (permission
 * `method:<name>`), which the authorizer lets through unless `allowUnknownMethods` is false.
 */
export function actionOf(method: string, params: Params): Action | undefined {
  if (UNGUARDED_METHODS.has(method) || method.startsWith('notifications/')) return undefined;
  switch (method) {
    case 'tools/call':
      return { kind: 'tools:call', name: field(params, 'name') };
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return { kind: 'resources:read', name: field(params, 'uri') };
    case 'prompts/get':
      return { kind: 'prompts:get', name: field(params, 'name') };
    case 'completion/complete':
      return completionAction(params);
  }
  const task = TASK_KINDS.get(method);
  if (task !== undefined) return { kind: task };
  return { kind: 'method', name: method };
}
