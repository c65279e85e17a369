/**
 * The authorizer: one pure decision per request (role check, then policies) and list
 * filtering, meant to sit in front of an Engine as a decorator:
 *
 *   const decision = authz.check({ principal: ctx.principal, method, params, remoteAddress });
 *   if (!decision.allowed) -> JSON-RPC error (RpcError.Forbidden) with decision.reason
 *   else if (isFilteredList(method)) -> authz.filterList(ctx.principal, method, result)
 *
 * Without options (or with `disabled: true`) authorization is off: everything is allowed and
 * lists are returned as they are. The only side effect is the injected audit sink.
 */
import type { z } from 'zod';
import type { Principal } from '../principal.js';
import { actionOf, LIST_SHAPES, permissionOf, type ActionKind } from './actions.js';
import { AuthzOptionsSchema, type CustomPolicy, type PolicyConfig } from './config.js';
import { AuthzError } from './errors.js';
import { PermissionSet } from './permissions.js';
import { compilePolicy, evaluatePolicies } from './policies.js';
import { compileRoles } from './roles.js';

export const DEFAULT_ALLOW_UNKNOWN_METHODS = true;
/** Longest permission shown in a reason or an audit line; longer ones end with `…`. */
export const MAX_SHOWN_PERMISSION_LENGTH = 256;

/** One denial, for the audit log. Holds no params values (beyond the target) and no token. */
export interface AuditEntry {
  /** ISO 8601, from the check's clock. */
  readonly time: string;
  /** The principal's id. */
  readonly principal: string;
  readonly kind: ActionKind;
  readonly method: string;
  /** The permission the request needed (control characters escaped, cut past 256). */
  readonly permission: string;
  readonly reason: string;
  readonly remoteAddress?: string;
}

/** One take from a rate policy's bucket that an allowed request owes (see RatePolicy). */
export interface RateCharge {
  /** The rate policy's label (its name, or `#<index>`). */
  readonly policy: string;
  /** The bucket: per principal and action, `<principal id>|<permission>`. */
  readonly key: string;
}

/** A rate policy as the store wiring needs it: one bucket configuration per label. */
export interface RatePolicy {
  readonly label: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export type Decision =
  | {
      readonly allowed: true;
      /** Rate policies in scope: a bucket each must grant before the request runs. */
      readonly charges?: readonly RateCharge[];
    }
  | {
      readonly allowed: false;
      /** Safe to show the client, e.g. `missing permission tools:call:delete_db`. */
      readonly reason: string;
      /**
       * The permission the request needed. Its target is client input: control characters
       * are escaped and it is cut past MAX_SHOWN_PERMISSION_LENGTH, but it may hold any
       * other Unicode (encode it before putting it in an HTTP header).
       */
      readonly permission: string;
    };

export interface CheckInput {
  readonly principal: Principal;
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  readonly remoteAddress?: string | undefined;
  /** Milliseconds since the epoch; the authorizer's clock when absent. */
  readonly now?: number | undefined;
}

export interface AuthorizerOptions {
  readonly disabled?: boolean;
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  readonly anonymousRoles?: readonly string[];
  /** Default DEFAULT_ALLOW_UNKNOWN_METHODS (true); see AuthzConfigSchema. */
  readonly allowUnknownMethods?: boolean;
  /** JSON policies (AuthzConfigSchema) and code-only custom ones, evaluated in order. */
  readonly policies?: readonly (PolicyConfig | CustomPolicy)[];
  /** Called once for every denial of `check` (not for items filterList hides). */
  readonly onDenied?: (entry: AuditEntry) => void;
  /** Errors of custom policies and of onDenied; they never change a decision's outcome. */
  readonly onError?: (err: unknown) => void;
  /** Milliseconds clock (default Date.now); tests inject a fake one. */
  readonly now?: () => number;
}

export interface Authorizer {
  /** False when authorization is off. */
  readonly enabled: boolean;
  /** The configured rate policies, in order. */
  readonly ratePolicies: readonly RatePolicy[];
  check(input: CheckInput): Decision;
  /**
   * For tools/list, prompts/list, resources/list and resources/templates/list: a copy of
   * `result` without the items the principal may not use (other fields such as nextCursor
   * kept; the input is not mutated). A modern `cacheScope: "public"` becomes "private", since
   * the list now depends on the principal. A page may come out shorter than the page size,
   * even empty with a nextCursor. Other methods' results are returned as they are.
   */
  filterList<T extends object>(principal: Principal, method: string, result: T): T;
  /** Everything the principal is granted by roles and claims. */
  permissionsOf(principal: Principal): PermissionSet;
}

/** True for the list methods whose results filterList narrows. */
export function isFilteredList(method: string): boolean {
  return LIST_SHAPES.has(method);
}

const ALLOWED: Decision = Object.freeze({ allowed: true });
const EVERYTHING = new PermissionSet(['*']);

const DISABLED: Authorizer = Object.freeze({
  enabled: false,
  ratePolicies: Object.freeze([]),
  check: () => ALLOWED,
  filterList: <T>(_principal: Principal, _method: string, result: T): T => result,
  permissionsOf: () => EVERYTHING,
});

/**
 * The permission as shown in reasons and audit lines. Its target comes from the client, so
 * control characters (CR, LF, ...) and line separators are escaped as `\uXXXX`: a reason
 * stays one line in a log and cannot split a header. Long ones are cut.
 */
function shown(permission: string): string {
  const safe = permission.replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return safe.length > MAX_SHOWN_PERMISSION_LENGTH
    ? `${safe.slice(0, MAX_SHOWN_PERMISSION_LENGTH)}…`
    : safe;
}

/** `roles.ops[0]: malformed permission …; anonymousRoles[0]: …` — one line, for logs. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((key, i) =>
          typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`,
        )
        .join('');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Builds an authorizer. Throws AuthzError('config') listing every problem when the options
 * are invalid (malformed permission, CIDR, time window, undefined anonymous role, ...).
 */
export function createAuthorizer(options?: AuthorizerOptions): Authorizer {
  if (options === undefined || options.disabled === true) return DISABLED;
  const parsed = AuthzOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new AuthzError('config', `authorization config: ${describeIssues(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const roles = compileRoles(options);
  const policies = Object.freeze((options.policies ?? []).map((p, i) => compilePolicy(p, i)));
  const allowUnknownMethods = options.allowUnknownMethods ?? DEFAULT_ALLOW_UNKNOWN_METHODS;
  const clock = options.now ?? Date.now;
  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // The error sink failing leaves nowhere else to report to; the decision stands.
    }
  };

  const deny = (
    input: CheckInput,
    kind: ActionKind,
    permission: string,
    reason: string,
    now: number,
  ): Decision => {
    const decision = { allowed: false, reason, permission: shown(permission) } as const;
    if (options.onDenied !== undefined) {
      const entry: AuditEntry = {
        time: new Date(now).toISOString(),
        principal: input.principal.id,
        kind,
        method: input.method,
        permission: decision.permission,
        reason,
        ...(input.remoteAddress === undefined ? {} : { remoteAddress: input.remoteAddress }),
      };
      try {
        options.onDenied(entry);
      } catch (err) {
        report(err);
      }
    }
    return decision;
  };

  const ratePolicies = Object.freeze(
    policies.flatMap((p) => (p.rate === undefined ? [] : [{ label: p.label, ...p.rate }])),
  );

  return Object.freeze({
    enabled: true,
    ratePolicies,
    check(input: CheckInput): Decision {
      const action = actionOf(input.method, input.params);
      if (action === undefined) return ALLOWED;
      const permission = permissionOf(action);
      const given = input.now;
      const now = given !== undefined && Number.isFinite(given) ? given : clock();
      // Unknown methods may skip the role check, never the policies.
      const skipRoles = action.kind === 'method' && allowUnknownMethods;
      if (!skipRoles && !roles.permissionsOf(input.principal).allows(action)) {
        return deny(input, action.kind, permission, `missing permission ${shown(permission)}`, now);
      }
      if (policies.length === 0) return ALLOWED;
      const policyInput = {
        principal: input.principal,
        roles: roles.rolesOf(input.principal),
        action,
        method: input.method,
        permission,
        remoteAddress: input.remoteAddress,
        now,
      };
      const denial = evaluatePolicies(policies, policyInput, report);
      if (denial !== undefined) return deny(input, action.kind, permission, denial.reason, now);
      if (ratePolicies.length === 0) return ALLOWED;
      const charges = policies
        .filter((p) => p.rate !== undefined && p.applies(policyInput))
        .map((p) => ({ policy: p.label, key: `${input.principal.id}|${permission}` }));
      return charges.length === 0 ? ALLOWED : { allowed: true, charges };
    },
    filterList<T extends object>(principal: Principal, method: string, result: T): T {
      const shape = LIST_SHAPES.get(method);
      const fields = result as Readonly<Record<string, unknown>>;
      const items = shape === undefined ? undefined : fields[shape.field];
      if (shape === undefined || !Array.isArray(items)) return result;
      const granted = roles.permissionsOf(principal);
      // A template is visible when its text, read as a uri, is readable: `*`, `resources:*`,
      // `resources:read:*` and globs matching the template string (file:///docs/* matches
      // file:///docs/{name}). An item without a string key is hidden.
      const kept = items.filter((item: unknown) => {
        const name = isRecord(item) ? item[shape.key] : undefined;
        return typeof name === 'string' && granted.allows({ kind: shape.kind, name });
      });
      const filtered: Record<string, unknown> = { ...fields, [shape.field]: kept };
      // The list now depends on who asks: a shared cache must not serve it to someone else.
      if (filtered.cacheScope === 'public') filtered.cacheScope = 'private';
      return filtered as T;
    },
    permissionsOf: (principal: Principal) => roles.permissionsOf(principal),
  });
}

/**
 * An audit sink writing each denial as one JSON line: `{"event":"authz.denied","time":…,
 * "principal":…,"kind":…,"method":…,"permission":…,"reason":…,"remoteAddress":…}`. U+2028
 * and U+2029 are escaped too, so no log reader splits the line.
 */
export function jsonLineAudit(write: (line: string) => void): (entry: AuditEntry) => void {
  return (entry) => {
    const line = JSON.stringify({
      event: 'authz.denied',
      time: entry.time,
      principal: entry.principal,
      kind: entry.kind,
      method: entry.method,
      permission: entry.permission,
      reason: entry.reason,
      remoteAddress: entry.remoteAddress,
    });
    write(line.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'));
  };
}
