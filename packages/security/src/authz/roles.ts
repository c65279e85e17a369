/**
 * Roles -> permissions. A principal's permissions are the union of:
 *   - the permissions of each of its roles (`principal.roles`, filled by authentication from
 *     token claims and scopes) that the configuration defines; other roles grant nothing;
 *   - for an anonymous principal, the permissions of the configured `anonymousRoles`;
 *   - direct grants: when `principal.claims.permissions` is an array, each string in it
 *     that is a well-formed permission. The claims are the verified token payload, so this
 *     trusts the token issuer to grant permissions directly; malformed or non-string
 *     entries are ignored (a token must not be able to break a request with a typo).
 */
import type { Principal } from '../principal.js';
import { AuthzError } from './errors.js';
import { parsePermission, PermissionSet, type Permission } from './permissions.js';

export interface RolesConfig {
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  readonly anonymousRoles?: readonly string[];
}

/** The claim holding direct permissions. */
export const PERMISSIONS_CLAIM = 'permissions';

export interface RoleTable {
  /** The principal's effective roles: its own plus, when anonymous, the anonymous roles. */
  rolesOf(principal: Principal): readonly string[];
  /** Everything the principal is granted; memoized per principal object. */
  permissionsOf(principal: Principal): PermissionSet;
}

function claimPermissions(principal: Principal): Permission[] {
  const claim = principal.claims?.[PERMISSIONS_CLAIM];
  if (!Array.isArray(claim)) return [];
  const out: Permission[] = [];
  for (const entry of claim) {
    if (typeof entry !== 'string') continue;
    try {
      out.push(parsePermission(entry));
    } catch (err) {
      if (!(err instanceof AuthzError)) throw err;
    }
  }
  return out;
}

/**
 * Compiles the role table. Throws AuthzError('config') naming the role and the permission
 * when a permission is malformed, or when an anonymous role is not defined.
 */
export function compileRoles(config: RolesConfig): RoleTable {
  const table = new Map<string, readonly Permission[]>();
  for (const [role, permissions] of Object.entries(config.roles ?? {})) {
    const compiled = permissions.map((p) => {
      try {
        return parsePermission(p);
      } catch (err) {
        throw new AuthzError('config', `role "${role}": ${(err as Error).message}`, {
          cause: err,
        });
      }
    });
    table.set(role, Object.freeze(compiled));
  }
  const anonymous = Object.freeze([...(config.anonymousRoles ?? [])]);
  for (const role of anonymous) {
    if (!table.has(role)) {
      throw new AuthzError('config', `anonymous role "${role}" is not defined in roles`);
    }
  }

  const cache = new WeakMap<Principal, PermissionSet>();
  const rolesOf = (principal: Principal): readonly string[] =>
    principal.kind === 'anonymous' && anonymous.length > 0
      ? [...new Set([...principal.roles, ...anonymous])]
      : principal.roles;

  return Object.freeze({
    rolesOf,
    permissionsOf(principal: Principal): PermissionSet {
      const cached = cache.get(principal);
      if (cached !== undefined) return cached;
      const granted: Permission[] = [];
      for (const role of rolesOf(principal)) granted.push(...(table.get(role) ?? []));
      granted.push(...claimPermissions(principal));
      const set = new PermissionSet(granted);
      cache.set(principal, set);
      return set;
    },
  });
}
