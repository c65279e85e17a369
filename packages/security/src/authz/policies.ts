/**
 * Policies: conditions checked after the role check, for requests that need a permission.
 * Every policy whose scope covers the request must allow it; the first that refuses decides
 * (deny wins). Declarative ones come from JSON (client address lists, time windows), custom
 * ones are predicates in code.
 *
 * Not here: per-principal rate limits (the RateLimiter stores, wired at the gateway) and
 * task/session ownership (the task host and session store check the owner); neither is a
 * pure function of the request, so neither has a policy shape.
 */
import type { Principal } from '../principal.js';
import type { Action } from './actions.js';
import type { CustomPolicy, PolicyConfig, PolicyScope } from './config.js';
import { cidrContains, parseCidr, parseIp, type CidrRange } from './ip.js';
import { PermissionSet } from './permissions.js';
import { dayNumbers, inWindow, parseTimeRange, parseUtcOffset, type TimeWindow } from './time.js';

/** What a policy sees. Never the request's params beyond the action's name. */
export interface PolicyInput {
  readonly principal: Principal;
  /** The principal's roles plus, for anonymous principals, the configured anonymous roles. */
  readonly roles: readonly string[];
  readonly action: Action;
  readonly method: string;
  /** The permission the action needs, e.g. `tools:call:delete_db`. */
  readonly permission: string;
  /** As the transport reported it; undefined when unknown (stdio). */
  readonly remoteAddress: string | undefined;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/**
 * A custom policy's test. `false` refuses with a generic reason; `{ allow: false, reason }`
 * refuses with `reason`, which is shown to the client and must hold no secret. A throw
 * refuses too (fail closed) and is reported to the authorizer's `onError`.
 */
export type PolicyPredicate = (
  input: PolicyInput,
) => boolean | { readonly allow: false; readonly reason: string };

export interface CompiledPolicy {
  /** The policy's name, or `#<index>` when it has none. */
  readonly label: string;
  applies(input: PolicyInput): boolean;
  /** Undefined when allowed; otherwise the reason (without the policy label). */
  evaluate(input: PolicyInput): string | undefined;
  /**
   * A rate policy's bucket: it never refuses here (buckets live in a shared store, checked
   * by the engine guard); the authorizer names it in the decision instead.
   */
  readonly rate?: { readonly capacity: number; readonly refillPerSecond: number };
}

function scopeTest(scope: PolicyScope): (input: PolicyInput) => boolean {
  const principals = scope.principals === undefined ? undefined : new Set(scope.principals);
  const roles = scope.roles === undefined ? undefined : new Set(scope.roles);
  const permissions =
    scope.permissions === undefined ? undefined : new PermissionSet(scope.permissions);
  return (input) => {
    if (principals !== undefined || roles !== undefined) {
      const byId = principals?.has(input.principal.id) ?? false;
      const byRole = roles !== undefined && input.roles.some((r) => roles.has(r));
      if (!byId && !byRole) return false;
    }
    return permissions === undefined || permissions.allows(input.action);
  };
}

function cidrs(list: readonly string[] | undefined): readonly CidrRange[] | undefined {
  // The schema validated every entry; a malformed one here is dropped rather than trusted.
  return list?.flatMap((text) => parseCidr(text) ?? []);
}

function cidrPolicy(config: Extract<PolicyConfig, { type: 'cidr' }>): CompiledPolicy['evaluate'] {
  const allow = cidrs(config.allow);
  const deny = cidrs(config.deny);
  return ({ remoteAddress }) => {
    const address = remoteAddress === undefined ? undefined : parseIp(remoteAddress);
    if (address === undefined) {
      return allow === undefined ? undefined : 'client address unknown';
    }
    if (deny?.some((range) => cidrContains(range, address))) return 'client address not allowed';
    if (allow !== undefined && !allow.some((range) => cidrContains(range, address))) {
      return 'client address not allowed';
    }
    return undefined;
  };
}

function timePolicy(config: Extract<PolicyConfig, { type: 'time' }>): CompiledPolicy['evaluate'] {
  const offset = parseUtcOffset(config.utcOffset ?? 'Z') ?? 0;
  const windows: TimeWindow[] = config.windows.map((w) => ({
    days: dayNumbers(w.days),
    range: (w.hours === undefined ? undefined : parseTimeRange(w.hours)) ?? {
      start: 0,
      end: 24 * 60,
    },
  }));
  return ({ now }) =>
    windows.some((w) => inWindow(w, now, offset)) ? undefined : 'outside the allowed hours';
}

function customPolicy(config: CustomPolicy): CompiledPolicy['evaluate'] {
  return (input) => {
    const verdict = config.test(input);
    if (verdict === true) return undefined;
    if (
      typeof verdict === 'object' &&
      typeof verdict.reason === 'string' &&
      verdict.reason !== ''
    ) {
      return verdict.reason;
    }
    return 'not allowed';
  };
}

/** Compiles one validated policy; `index` labels it when it has no name. */
export function compilePolicy(config: PolicyConfig | CustomPolicy, index: number): CompiledPolicy {
  const label = config.name ?? `#${index}`;
  const applies = scopeTest(config);
  if (config.type === 'rate') {
    const rate = Object.freeze({
      capacity: config.capacity,
      refillPerSecond: config.refillPerSecond,
    });
    return Object.freeze({ label, applies, evaluate: () => undefined, rate });
  }
  const evaluate =
    config.type === 'cidr'
      ? cidrPolicy(config)
      : config.type === 'time'
        ? timePolicy(config)
        : customPolicy(config);
  return Object.freeze({ label, applies, evaluate });
}

/** A policy refusal: the refusing policy's label and the reason shown to the client. */
export interface PolicyDenial {
  readonly policy: string;
  readonly reason: string;
}

/**
 * Runs the applicable policies in order; the first refusal wins. A policy that throws
 * refuses (`policy failed`) and the error goes to `onError`.
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  input: PolicyInput,
  onError: (err: unknown, policy: string) => void,
): PolicyDenial | undefined {
  for (const policy of policies) {
    if (policy.rate !== undefined) continue;
    let reason: string | undefined;
    try {
      if (!policy.applies(input)) continue;
      reason = policy.evaluate(input);
    } catch (err) {
      onError(err, policy.label);
      reason = 'policy failed';
    }
    if (reason !== undefined) {
      return { policy: policy.label, reason: `denied by policy ${policy.label}: ${reason}` };
    }
  }
  return undefined;
}
