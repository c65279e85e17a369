/**
 * The grammar of permission strings, as roles, policies and token claims write them:
 *
 *   *                                   everything
 *   <family>:*                          every action of a family: tools:*, resources:*, tasks:*
 *   <kind>                              a kind without target: tasks:get, completion:complete
 *   <kind>:*                            every target of a kind: tools:call:*, resources:read:*
 *   <kind>:<glob>                       tools:call:db_*, prompts:get:review, method:skills/*
 *   resources:read:<uri glob>           resources:read:file:///docs/**
 *
 * Only the first two `:` separate segments (uris contain `:`); for `method:` only the first.
 * Here so the configuration can refuse a malformed permission at load time; compiling the
 * target globs and matching them is the authorizer's (@mcp-cluster/security permissions.ts).
 */

/** How a kind's target is written in a permission, or `none` for kinds without a target. */
export type TargetSyntax = 'name' | 'uri' | 'none';

/** Every action kind and its target syntax; the keys are also the permission prefixes. */
export const ACTION_KINDS = Object.freeze({
  'tools:call': 'name',
  'resources:read': 'uri',
  'prompts:get': 'name',
  'tasks:get': 'none',
  'tasks:list': 'none',
  'tasks:cancel': 'none',
  'tasks:result': 'none',
  'tasks:update': 'none',
  'completion:complete': 'none',
  /** A method the authorizer does not know; its target is the method name. */
  method: 'name',
} as const satisfies Record<string, TargetSyntax>);

export type ActionKind = keyof typeof ACTION_KINDS;

export function isActionKind(value: string): value is ActionKind {
  return Object.hasOwn(ACTION_KINDS, value);
}

/** Longest permission string accepted in configuration or claims. */
export const MAX_PERMISSION_LENGTH = 512;
/** Most wildcards in one permission's target. */
export const MAX_WILDCARDS = 16;

const FAMILIES: ReadonlySet<string> = new Set(
  Object.keys(ACTION_KINDS).map((kind) => kind.split(':', 1)[0] ?? kind),
);

/** A well-formed permission string, its target not yet compiled. */
export type PermissionSyntax =
  | { readonly type: 'all' }
  | { readonly type: 'family'; readonly family: string }
  /** Every target of a kind (or the kind itself when it has no target). */
  | { readonly type: 'kind'; readonly kind: ActionKind }
  | {
      readonly type: 'target';
      readonly kind: ActionKind;
      /** The glob as written (`*` any run of characters; in uris `**` across segments). */
      readonly target: string;
      readonly syntax: 'name' | 'uri';
    };

/** A permission string read: its parts, or what is wrong with it (a message for the user). */
export type PermissionRead =
  | { readonly ok: true; readonly permission: PermissionSyntax }
  | { readonly ok: false; readonly problem: string };

function malformed(source: string, why: string): PermissionRead {
  const shown = source.length > 80 ? `${source.slice(0, 80)}…` : source;
  return { ok: false, problem: `malformed permission ${JSON.stringify(shown)}: ${why}` };
}

const ok = (permission: PermissionSyntax): PermissionRead => ({ ok: true, permission });

/** Reads one permission string; never throws (configuration lists every problem at once). */
export function readPermission(source: string): PermissionRead {
  if (source.length === 0) return malformed(source, 'empty');
  if (source.length > MAX_PERMISSION_LENGTH) {
    return malformed(source, `longer than ${MAX_PERMISSION_LENGTH} characters`);
  }
  // Whitespace and control characters are never part of a name or a (percent-encoded) uri.
  if (/[\s\p{Cc}]/u.test(source)) return malformed(source, 'contains whitespace or a control');
  if (source === '*') return ok({ type: 'all' });

  const colon = source.indexOf(':');
  if (colon === -1) return malformed(source, 'expected <kind>:<action>[:<target>] or *');
  const family = source.slice(0, colon);
  const rest = source.slice(colon + 1);
  if (!FAMILIES.has(family)) {
    return malformed(source, `unknown family "${family}" (one of ${[...FAMILIES].join(', ')})`);
  }
  if (family === 'method') return targeted(source, 'method', rest);
  if (rest === '*') return ok({ type: 'family', family });

  const second = rest.indexOf(':');
  const kind = `${family}:${second === -1 ? rest : rest.slice(0, second)}`;
  if (!isActionKind(kind)) return malformed(source, `unknown action "${kind}"`);
  if (ACTION_KINDS[kind] === 'none') {
    if (second !== -1) return malformed(source, `${kind} takes no target`);
    return ok({ type: 'kind', kind });
  }
  if (second === -1) return malformed(source, `${kind} needs a target (${kind}:* for all)`);
  return targeted(source, kind, rest.slice(second + 1));
}

function targeted(source: string, kind: ActionKind, target: string): PermissionRead {
  if (target === '') return malformed(source, `${kind} needs a target (${kind}:* for all)`);
  if (/^\*+$/.test(target)) return ok({ type: 'kind', kind });
  const wildcards = target.match(/\*+/g)?.length ?? 0;
  if (wildcards > MAX_WILDCARDS) {
    return malformed(source, `more than ${MAX_WILDCARDS} wildcards`);
  }
  const syntax = ACTION_KINDS[kind] === 'uri' ? 'uri' : 'name';
  return ok({ type: 'target', kind, target, syntax });
}

/** Why `source` is not a permission, or undefined when it is one. */
export function permissionProblem(source: string): string | undefined {
  const read = readPermission(source);
  return read.ok ? undefined : read.problem;
}
