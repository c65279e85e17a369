import { describe, expect, it } from 'vitest';
import type { Principal } from '../principal.js';
import { AuthzError } from './errors.js';
import { compileRoles } from './roles.js';

const table = compileRoles({
  roles: {
    reader: ['resources:read:file:///docs/**', 'prompts:get:*'],
    dba: ['tools:call:db_*'],
    guest: ['tools:call:echo'],
    nothing: [],
  },
  anonymousRoles: ['guest'],
});

const user = (roles: string[], claims?: Principal['claims']): Principal => ({
  id: 'u1',
  kind: 'user',
  roles,
  ...(claims === undefined ? {} : { claims }),
});

describe('compileRoles', () => {
  it('grants the union of the principal roles', () => {
    const set = table.permissionsOf(user(['reader', 'dba']));
    expect(set.allows({ kind: 'tools:call', name: 'db_query' })).toBe(true);
    expect(set.allows({ kind: 'resources:read', name: 'file:///docs/a/b' })).toBe(true);
    expect(set.allows({ kind: 'prompts:get', name: 'any' })).toBe(true);
    expect(set.allows({ kind: 'tools:call', name: 'echo' })).toBe(false);
  });

  it('grants nothing for unknown or empty roles, including prototype names', () => {
    for (const roles of [[], ['nobody'], ['nothing'], ['__proto__', 'constructor', 'toString']]) {
      const set = table.permissionsOf(user(roles));
      expect(set.empty).toBe(true);
      expect(set.allows({ kind: 'tools:call', name: 'db_query' })).toBe(false);
    }
  });

  it('gives anonymous principals the anonymous roles, and only them', () => {
    const anonymous: Principal = { id: 'anonymous', kind: 'anonymous', roles: [] };
    expect(table.rolesOf(anonymous)).toEqual(['guest']);
    expect(table.permissionsOf(anonymous).allows({ kind: 'tools:call', name: 'echo' })).toBe(true);
    expect(table.rolesOf(user([]))).toEqual([]);
    expect(table.permissionsOf(user([])).allows({ kind: 'tools:call', name: 'echo' })).toBe(false);
    const both: Principal = { id: 'a', kind: 'anonymous', roles: ['guest', 'dba'] };
    expect(table.rolesOf(both)).toEqual(['guest', 'dba']);
  });

  it('grants well-formed direct permissions from claims.permissions and ignores the rest', () => {
    const p = user([], {
      permissions: ['tools:call:report', 42, 'not a permission', 'tool:call:x', null, 'tasks:*'],
    });
    const set = table.permissionsOf(p);
    expect(set.permissions.map((x) => x.source)).toEqual(['tools:call:report', 'tasks:*']);
    expect(set.allows({ kind: 'tools:call', name: 'report' })).toBe(true);
    expect(set.allows({ kind: 'tasks:cancel' })).toBe(true);
    expect(table.permissionsOf(user([], { permissions: 'tools:call:x' })).empty).toBe(true);
    expect(table.permissionsOf(user([], { scope: 'tools:call:x' })).empty).toBe(true);
  });

  it('memoizes per principal object', () => {
    const p = user(['dba']);
    expect(table.permissionsOf(p)).toBe(table.permissionsOf(p));
    expect(table.permissionsOf(user(['dba']))).not.toBe(table.permissionsOf(p));
  });

  it('refuses a malformed permission, naming the role', () => {
    expect(() => compileRoles({ roles: { ops: ['tools:call:ok', 'tools:exec:x'] } })).toThrow(
      /role "ops": malformed permission "tools:exec:x": unknown action "tools:exec"/,
    );
    try {
      compileRoles({ roles: { ops: ['tools:call'] } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AuthzError);
      expect((err as AuthzError).kind).toBe('config');
      expect((err as AuthzError).cause).toBeInstanceOf(AuthzError);
    }
  });

  it('refuses an undefined anonymous role', () => {
    expect(() => compileRoles({ roles: {}, anonymousRoles: ['guest'] })).toThrow(
      /anonymous role "guest" is not defined/,
    );
  });
});
