/**
 * Permission strings and their matching.
 *
 *   *                                   everything
 *   <family>:*                          every action of a family: tools:*, resources:*, tasks:*
 *   <kind>                              a kind without target: tasks:get, completion:complete
 *   <kind>:*                            every target of a kind: tools:call:*, resources:read:*
 *   <kind>:<glob>                       tools:call:db_*, prompts:get:review, method:skills/*
 *   resources:read:<uri glob>           resources:read:file:///docs/**
 *
 * Only the first two `:` separate segments (uris contain `:`); for `method:` only the first.
 * In names `*` matches any run of characters. In uris `*` matches within one path segment
 * (no `/`: `db://` `*` `/tables` matches `db://main/tables`, not `db://a/b/tables`) and `**`
 * across segments. A target that is exactly `*` (or `**`) grants every name or uri of its
 * kind, slashes included (`resources:read:*` like `tools:call:*`). Wildcards match the empty
 * string. Every other character, regex metacharacters included, is literal.
 *
 * Globs are compiled once into tokens and matched by a set-of-positions scan, not by a
 * backtracking RegExp: targets come from clients, and a regex like `^a.*a.*a.*b$` takes
 * polynomial time on a long `aaaa…` name. Matching costs O(tokens × target length), both
 * bounded (MAX_PERMISSION_LENGTH, MAX_WILDCARDS, MAX_TARGET_LENGTH).
 */
import { readPermission } from '@mcp-cluster/config';
import type { Action, ActionKind } from './actions.js';
import { AuthzError } from './errors.js';

/** The grammar is the configuration's, which refuses a malformed permission at load time. */
export { MAX_PERMISSION_LENGTH, MAX_WILDCARDS, permissionProblem } from '@mcp-cluster/config';
/**
 * Longest target (name or uri) a pattern is matched against. A longer one is granted only by
 * whole-kind grants (`*`, `tools:*`, `tools:call:*`), never by a name or glob.
 */
export const MAX_TARGET_LENGTH = 8192;

type Token =
  | { readonly type: 'literal'; readonly text: string }
  /** Any run of characters. */
  | { readonly type: 'any' }
  /** Any run of characters without `/`. */
  | { readonly type: 'segment' };

/** A compiled glob: literal prefix and suffix checked first, the middle scanned. */
export class Glob {
  private readonly prefix: string;
  private readonly suffix: string;
  /** Starts and ends with a wildcard; empty when the pattern has none. */
  private readonly middle: readonly Token[];

  constructor(
    readonly source: string,
    syntax: 'name' | 'uri',
  ) {
    const tokens = tokenize(source, syntax);
    const first = tokens[0];
    const last = tokens.at(-1);
    this.prefix = first?.type === 'literal' ? first.text : '';
    const hasWildcard = tokens.some((t) => t.type !== 'literal');
    this.suffix = hasWildcard && last?.type === 'literal' ? last.text : '';
    this.middle = hasWildcard
      ? tokens.slice(first?.type === 'literal' ? 1 : 0, last?.type === 'literal' ? -1 : undefined)
      : [];
  }

  /** True when the pattern has no wildcard (matched by equality). */
  get literal(): boolean {
    return this.middle.length === 0;
  }

  matches(input: string): boolean {
    if (this.middle.length === 0) return input === this.prefix;
    if (input.length > MAX_TARGET_LENGTH) return false;
    if (input.length < this.prefix.length + this.suffix.length) return false;
    if (!input.startsWith(this.prefix) || !input.endsWith(this.suffix)) return false;
    const only = this.middle.length === 1 ? this.middle[0] : undefined;
    if (only?.type === 'any') return true;
    const rest = input.slice(this.prefix.length, input.length - this.suffix.length);
    if (only?.type === 'segment') return !rest.includes('/');
    return scan(this.middle, rest);
  }
}

function tokenize(source: string, syntax: 'name' | 'uri'): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    if (source[i] === '*') {
      let j = i;
      while (source[j] === '*') j++;
      const type = syntax === 'uri' && j - i === 1 ? 'segment' : 'any';
      const prev = tokens.at(-1);
      // `*` next to `**` is just `**`; adjacent wildcards never need two tokens.
      if (prev !== undefined && prev.type !== 'literal') {
        if (type === 'any') tokens[tokens.length - 1] = { type };
      } else {
        tokens.push({ type });
      }
      i = j;
    } else {
      const j = source.indexOf('*', i);
      const end = j === -1 ? source.length : j;
      tokens.push({ type: 'literal', text: source.slice(i, end) });
      i = end;
    }
  }
  return tokens;
}

/**
 * Whether `tokens` (a wildcard at each end) match all of `input`. `reach[p]` says the tokens
 * so far can consume exactly `input[0, p)`; each token maps one reach set to the next.
 */
function scan(tokens: readonly Token[], input: string): boolean {
  const n = input.length;
  let reach = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const token of tokens) {
    const next = new Uint8Array(n + 1);
    let any = false;
    if (token.type === 'literal') {
      const len = token.text.length;
      for (let p = 0; p + len <= n; p++) {
        if (reach[p] === 1 && input.startsWith(token.text, p)) {
          next[p + len] = 1;
          any = true;
        }
      }
    } else {
      let open = false;
      for (let p = 0; p <= n; p++) {
        if (reach[p] === 1) open = true;
        if (open) {
          next[p] = 1;
          any = true;
          if (token.type === 'segment' && input[p] === '/') open = false;
        }
      }
    }
    if (!any) return false;
    reach = next;
  }
  return reach[n] === 1;
}

/** A parsed permission string. `source` is the string as written. */
export type Permission =
  | { readonly type: 'all'; readonly source: string }
  | { readonly type: 'family'; readonly source: string; readonly family: string }
  /** Every target of a kind (or the kind itself when it has no target). */
  | { readonly type: 'kind'; readonly source: string; readonly kind: ActionKind }
  | {
      readonly type: 'target';
      readonly source: string;
      readonly kind: ActionKind;
      readonly pattern: Glob;
    };

/** Parses one permission string; throws AuthzError('config') saying what is wrong. */
export function parsePermission(source: string): Permission {
  const read = readPermission(source);
  if (!read.ok) throw new AuthzError('config', read.problem);
  const p = read.permission;
  switch (p.type) {
    case 'all':
      return Object.freeze({ type: 'all', source });
    case 'family':
      return Object.freeze({ type: 'family', source, family: p.family });
    case 'kind':
      return Object.freeze({ type: 'kind', source, kind: p.kind });
    case 'target':
      return Object.freeze({
        type: 'target',
        source,
        kind: p.kind,
        pattern: new Glob(p.target, p.syntax),
      });
  }
}

interface KindGrants {
  any: boolean;
  readonly exact: Set<string>;
  readonly globs: Glob[];
}

/**
 * A set of permissions, indexed for `allows`: whole grants are flags, literal targets a hash
 * set, and only wildcard targets are scanned.
 */
export class PermissionSet {
  private all = false;
  private readonly families = new Set<string>();
  private readonly kinds = new Map<ActionKind, KindGrants>();
  readonly permissions: readonly Permission[];

  constructor(permissions: Iterable<Permission | string>) {
    const list: Permission[] = [];
    for (const p of permissions) {
      const permission = typeof p === 'string' ? parsePermission(p) : p;
      list.push(permission);
      this.add(permission);
    }
    this.permissions = Object.freeze(list);
  }

  private add(permission: Permission): void {
    switch (permission.type) {
      case 'all':
        this.all = true;
        return;
      case 'family':
        this.families.add(permission.family);
        return;
      case 'kind':
        this.grants(permission.kind).any = true;
        return;
      case 'target': {
        const grants = this.grants(permission.kind);
        if (permission.pattern.literal) grants.exact.add(permission.pattern.source);
        else grants.globs.push(permission.pattern);
        return;
      }
    }
  }

  private grants(kind: ActionKind): KindGrants {
    let grants = this.kinds.get(kind);
    if (grants === undefined) {
      grants = { any: false, exact: new Set(), globs: [] };
      this.kinds.set(kind, grants);
    }
    return grants;
  }

  /** True when nothing is granted. */
  get empty(): boolean {
    return this.permissions.length === 0;
  }

  allows(action: Action): boolean {
    if (this.all) return true;
    const family = action.kind.split(':', 1)[0] ?? action.kind;
    if (this.families.has(family)) return true;
    const grants = this.kinds.get(action.kind);
    if (grants === undefined) return false;
    if (grants.any) return true;
    const name = action.name;
    if (name === undefined || name.length > MAX_TARGET_LENGTH) return false;
    if (grants.exact.has(name)) return true;
    return grants.globs.some((glob) => glob.matches(name));
  }
}
