/**
 * The JSON configuration of authorization as zod schemas: roles -> permissions, roles of
 * anonymous callers, and declarative policies. Code-only options (custom predicates, audit
 * sink, clock) are the authorizer's (@mcp-cluster/security), which extends these shapes.
 */
import { z } from 'zod';
import { parseCidr } from './ip.js';
import { permissionProblem } from './permission-syntax.js';
import { DAYS, parseTimeRange, parseUtcOffset } from './time.js';

/** Longest role name; roles come from token claims, so they are bounded like other input. */
export const MAX_ROLE_NAME_LENGTH = 128;

export const PermissionSchema = z.string().superRefine((value, ctx) => {
  const problem = permissionProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const roleName = z.string().min(1).max(MAX_ROLE_NAME_LENGTH);

export const RolesSchema = z.record(roleName, z.array(PermissionSchema));

/**
 * Which requests a policy applies to. Absent fields do not narrow. The subject matches when
 * the principal's id is in `principals` or it has one of `roles` (either list suffices);
 * the request must also need a permission that one of `permissions` grants (patterns as in
 * roles: `tools:call:db_*`, `resources:*`).
 */
export const POLICY_SCOPE_SHAPE = {
  /** Shown in denial reasons and audit lines, e.g. "office-network". */
  name: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'policy names are 1-64 letters, digits, _ . -')
    .optional(),
  principals: z.array(z.string().min(1)).min(1).optional(),
  roles: z.array(roleName).min(1).optional(),
  permissions: z.array(PermissionSchema).min(1).optional(),
};

/** An IPv4/IPv6 address or CIDR range, as the cidr policy and `trustProxy` take them. */
export const CidrSchema = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'not an IPv4/IPv6 address or CIDR range (IPv4-mapped ranges need a prefix >= 96)',
});

/**
 * Client address lists. `deny`: a client in one of these ranges is refused. `allow`: a client
 * outside all of these ranges is refused, and so is a request whose address is unknown
 * (stdio, a transport that does not report one): allow lists fail closed.
 */
export const CidrPolicySchema = z
  .strictObject({
    type: z.literal('cidr'),
    allow: z.array(CidrSchema).min(1).optional(),
    deny: z.array(CidrSchema).min(1).optional(),
    ...POLICY_SCOPE_SHAPE,
  })
  .refine((p) => p.allow !== undefined || p.deny !== undefined, {
    message: 'a cidr policy needs allow or deny',
  });

const timeWindow = z.strictObject({
  /** Absent: every day. */
  days: z.array(z.enum(DAYS)).min(1).optional(),
  /** `HH:MM-HH:MM`, end exclusive, may cross midnight; absent: the whole day. */
  hours: z
    .string()
    .refine((value) => parseTimeRange(value) !== undefined, {
      message: 'hours must be HH:MM-HH:MM with different start and end (end may be 24:00)',
    })
    .optional(),
});

/** Requests are allowed only inside one of `windows`, read at `utcOffset` (default UTC). */
export const TimePolicySchema = z.strictObject({
  type: z.literal('time'),
  utcOffset: z
    .string()
    .refine((value) => parseUtcOffset(value) !== undefined, {
      message: 'utcOffset must be Z, UTC, +HH:MM or -HH:MM (at most 14:00)',
    })
    .optional(),
  windows: z.array(timeWindow).min(1),
  ...POLICY_SCOPE_SHAPE,
});

/**
 * A token bucket per principal and action (the permission a request needs, e.g.
 * `tools:call:search` or `resources:read:docs://a`) for the requests in scope, shared by
 * every gateway. Over the limit: -32012 (HTTP 429 + Retry-After on the modern wire).
 */
export const RatePolicySchema = z.strictObject({
  type: z.literal('rate'),
  capacity: z.number().int().min(1),
  refillPerSecond: z.number().positive(),
  ...POLICY_SCOPE_SHAPE,
});

export const PolicyConfigSchema = z.discriminatedUnion('type', [
  CidrPolicySchema,
  TimePolicySchema,
  RatePolicySchema,
]);

export const AUTHZ_CONFIG_SHAPE = {
  /** Authorization off: every request allowed, lists unfiltered. */
  disabled: z.boolean().optional(),
  /** Role name -> permissions. Roles a principal has that are not here grant nothing. */
  roles: RolesSchema.optional(),
  /** Roles every anonymous principal (kind 'anonymous') has, in addition to its own. */
  anonymousRoles: z.array(roleName).optional(),
  /**
   * Whether methods this module does not know (extension methods such as `skills/get`) pass
   * without a permission (default true). When false they need `method:<name>`.
   */
  allowUnknownMethods: z.boolean().optional(),
  /** Evaluated in order after the role check; every applicable one must allow. */
  policies: z.array(PolicyConfigSchema).optional(),
};

/** What checkAnonymousRoles reads of an authorization configuration. */
type ConfigShape = { roles?: Record<string, string[]> | undefined; anonymousRoles?: string[] };

export function checkAnonymousRoles(config: ConfigShape, ctx: z.RefinementCtx): void {
  for (const [i, role] of (config.anonymousRoles ?? []).entries()) {
    if (config.roles === undefined || !Object.hasOwn(config.roles, role)) {
      ctx.addIssue({
        code: 'custom',
        path: ['anonymousRoles', i],
        message: `anonymous role "${role}" is not defined in roles`,
      });
    }
  }
}

export const AuthzConfigSchema = z
  .strictObject(AUTHZ_CONFIG_SHAPE)
  .superRefine(checkAnonymousRoles);

export type AuthzConfig = z.input<typeof AuthzConfigSchema>;
export type PolicyConfig = z.input<typeof PolicyConfigSchema>;
export type CidrPolicyConfig = z.input<typeof CidrPolicySchema>;
export type TimePolicyConfig = z.input<typeof TimePolicySchema>;
export type PolicyScope = Pick<CidrPolicyConfig, 'name' | 'principals' | 'roles' | 'permissions'>;
