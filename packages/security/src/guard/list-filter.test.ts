import type { JsonObject } from '@mcp-cluster/protocol';
import { listFilterOf, modernOutbound, modernRequestContext } from '@mcp-cluster/server';
import type { Principal, RequestContext } from '@mcp-cluster/server';
import { describe, expect, it, vi } from 'vitest';
import { AuthzError } from '../authz/errors.js';
import { AuthConfigSchema } from '../config.js';
import { installListFilter, listAuthorizer } from './list-filter.js';

const reader: Principal = { id: 'rita', kind: 'user', roles: ['reader'] };
const admin: Principal = { id: 'ops', kind: 'user', roles: ['admin'] };

const AUTHZ = {
  roles: { admin: ['*'], reader: ['tools:call:greet', 'prompts:get:pick'] },
};

function ctxOf(principal: Principal): RequestContext {
  return modernRequestContext(
    { protocolVersion: '2026-07-28', clientCapabilities: {} },
    1,
    new AbortController().signal,
    modernOutbound(vi.fn()),
    { principal },
  );
}

const TOOLS: JsonObject = {
  tools: [
    { name: 'greet', inputSchema: { type: 'object' } },
    { name: 'drop_database', inputSchema: { type: 'object' } },
  ],
};

/** The tool names `ctx`'s installed filter lets through (all of them without a filter). */
function visibleTools(ctx: RequestContext): unknown[] {
  const filter = listFilterOf(ctx);
  const result = filter === undefined ? TOOLS : filter('tools/list', TOOLS);
  return (result['tools'] as JsonObject[]).map((t) => t['name']);
}

describe('listAuthorizer', () => {
  it('is undefined without an authz section, or with authorization disabled', () => {
    expect(listAuthorizer(undefined)).toBeUndefined();
    expect(listAuthorizer(AuthConfigSchema.parse({ allowAnonymous: true }))).toBeUndefined();
    const disabled = AuthConfigSchema.parse({ authz: { ...AUTHZ, disabled: true } });
    expect(listAuthorizer(disabled)).toBeUndefined();
  });

  it('builds the authorizer the roles describe', () => {
    const authorizer = listAuthorizer(AuthConfigSchema.parse({ authz: AUTHZ }));
    expect(authorizer?.enabled).toBe(true);
    expect(authorizer?.filterList(reader, 'tools/list', TOOLS)).toEqual({
      tools: [{ name: 'greet', inputSchema: { type: 'object' } }],
    });
  });

  it('refuses invalid roles as createSecurity does', () => {
    const auth = AuthConfigSchema.parse({ authz: AUTHZ });
    const broken = { ...auth, authz: { ...auth.authz, anonymousRoles: ['nobody'] } };
    expect(() => listAuthorizer(broken as typeof auth)).toThrow(AuthzError);
  });
});

describe('installListFilter', () => {
  it('narrows the lists a request sees to what its principal may use', () => {
    const authorizer = listAuthorizer(AuthConfigSchema.parse({ authz: AUTHZ }));
    if (authorizer === undefined) throw new Error('no authorizer');
    const readerCtx = ctxOf(reader);
    const adminCtx = ctxOf(admin);
    const untouched = ctxOf(reader);
    installListFilter(readerCtx, authorizer);
    installListFilter(adminCtx, authorizer);
    expect(visibleTools(readerCtx)).toEqual(['greet']);
    expect(visibleTools(adminCtx)).toEqual(['greet', 'drop_database']);
    // Per request: a context without one sees everything.
    expect(visibleTools(untouched)).toEqual(['greet', 'drop_database']);
  });
});
