import { describe, expect, it, vi } from 'vitest';
import type { Principal } from '../principal.js';
import {
  createAuthorizer,
  isFilteredList,
  jsonLineAudit,
  MAX_SHOWN_PERMISSION_LENGTH,
  type AuditEntry,
  type AuthorizerOptions,
} from './authorizer.js';
import { AuthzError } from './errors.js';

const NOW = Date.parse('2025-01-06T12:00:00Z');
const alice: Principal = { id: 'alice', kind: 'user', roles: ['dev'] };
const anonymous: Principal = { id: 'anonymous', kind: 'anonymous', roles: [] };

const ROLES = {
  dev: [
    'tools:call:echo',
    'tools:call:db_*',
    'prompts:get:review',
    'resources:read:file:///docs/**',
    'resources:read:db://*/tables',
    'tasks:get',
  ],
  guest: ['tools:call:echo'],
};

function setup(extra: Partial<AuthorizerOptions> = {}) {
  const denied: AuditEntry[] = [];
  const authz = createAuthorizer({
    roles: ROLES,
    anonymousRoles: ['guest'],
    onDenied: (entry) => denied.push(entry),
    now: () => NOW,
    ...extra,
  });
  return { authz, denied };
}

describe('createAuthorizer: off', () => {
  it.each([undefined, { disabled: true, roles: { x: ['*'] } }])('allows everything (%j)', (o) => {
    const authz = createAuthorizer(o);
    expect(authz.enabled).toBe(false);
    expect(
      authz.check({ principal: anonymous, method: 'tools/call', params: { name: 'x' } }),
    ).toEqual({ allowed: true });
    const result = { tools: [{ name: 'x' }] };
    expect(authz.filterList(anonymous, 'tools/list', result)).toBe(result);
    expect(authz.permissionsOf(anonymous).allows({ kind: 'tasks:cancel' })).toBe(true);
  });
});

describe('check', () => {
  it('allows what the roles grant, without auditing', () => {
    const { authz, denied } = setup();
    expect(authz.enabled).toBe(true);
    for (const [method, params] of [
      ['tools/call', { name: 'echo' }],
      ['tools/call', { name: 'db_query' }],
      ['prompts/get', { name: 'review' }],
      ['resources/read', { uri: 'file:///docs/a/b.md' }],
      ['resources/subscribe', { uri: 'db://main/tables' }],
      ['tasks/get', { taskId: 't' }],
      ['completion/complete', { ref: { type: 'ref/prompt', name: 'review' } }],
    ] as const) {
      expect(authz.check({ principal: alice, method, params })).toEqual({ allowed: true });
    }
    expect(denied).toEqual([]);
  });

  it('denies with a reason naming the missing permission, and audits once per denial', () => {
    const { authz, denied } = setup();
    const decision = authz.check({
      principal: alice,
      method: 'tools/call',
      params: { name: 'delete_db', arguments: { password: 'hunter2-secret' } },
      remoteAddress: '10.0.0.7',
    });
    expect(decision).toEqual({
      allowed: false,
      reason: 'missing permission tools:call:delete_db',
      permission: 'tools:call:delete_db',
    });
    expect(denied).toEqual([
      {
        time: '2025-01-06T12:00:00.000Z',
        principal: 'alice',
        kind: 'tools:call',
        method: 'tools/call',
        permission: 'tools:call:delete_db',
        reason: 'missing permission tools:call:delete_db',
        remoteAddress: '10.0.0.7',
      },
    ]);
    expect(JSON.stringify(denied)).not.toContain('hunter2');

    authz.check({ principal: alice, method: 'tasks/cancel', params: { taskId: 't' } });
    authz.check({ principal: alice, method: 'tools/call', params: { name: 'echo' } });
    expect(denied).toHaveLength(2);
    expect(denied[1]).toEqual({
      time: '2025-01-06T12:00:00.000Z',
      principal: 'alice',
      kind: 'tasks:cancel',
      method: 'tasks/cancel',
      permission: 'tasks:cancel',
      reason: 'missing permission tasks:cancel',
    });
  });

  it('maps completion by its ref and unknown refs to completion:complete', () => {
    const { authz } = setup();
    const complete = (ref: unknown) =>
      authz.check({ principal: alice, method: 'completion/complete', params: { ref } });
    expect(complete({ type: 'ref/resource', uri: 'file:///docs/{path}' }).allowed).toBe(true);
    expect(complete({ type: 'ref/resource', uri: 'file:///etc/{path}' })).toMatchObject({
      permission: 'resources:read:file:///etc/{path}',
    });
    expect(complete({ type: 'ref/prompt', name: 'other' })).toMatchObject({
      permission: 'prompts:get:other',
    });
    expect(complete({ type: 'ref/tool', name: 'x' })).toMatchObject({
      reason: 'missing permission completion:complete',
    });
  });

  it('never checks methods that need no permission, whatever the principal', () => {
    const { authz, denied } = setup({ policies: [{ type: 'cidr', allow: ['10.0.0.0/8'] }] });
    const nobody: Principal = { id: 'n', kind: 'user', roles: [] };
    for (const method of ['initialize', 'ping', 'tools/list', 'notifications/initialized']) {
      expect(authz.check({ principal: nobody, method, remoteAddress: '1.1.1.1' })).toEqual({
        allowed: true,
      });
    }
    expect(denied).toEqual([]);
  });

  it('lets unknown methods through by default, and requires method:<name> when told to', () => {
    const open = setup().authz;
    expect(open.check({ principal: alice, method: 'skills/get' }).allowed).toBe(true);
    const { authz, denied } = setup({
      allowUnknownMethods: false,
      roles: { ...ROLES, skills: ['method:skills/*'] },
    });
    expect(authz.check({ principal: alice, method: 'skills/get' })).toEqual({
      allowed: false,
      reason: 'missing permission method:skills/get',
      permission: 'method:skills/get',
    });
    expect(denied[0]?.kind).toBe('method');
    const skilled: Principal = { id: 's', kind: 'service', roles: ['skills'] };
    expect(authz.check({ principal: skilled, method: 'skills/list' }).allowed).toBe(true);
    expect(authz.check({ principal: skilled, method: 'other/x' }).allowed).toBe(false);
  });

  it('still applies policies to unknown methods that skip the role check', () => {
    const { authz } = setup({ policies: [{ type: 'cidr', deny: ['10.0.0.0/8'] }] });
    expect(
      authz.check({ principal: alice, method: 'skills/get', remoteAddress: '10.0.0.1' }),
    ).toEqual({
      allowed: false,
      reason: 'denied by policy #0: client address not allowed',
      permission: 'method:skills/get',
    });
  });

  it('gives anonymous principals the anonymous roles', () => {
    const { authz } = setup();
    expect(
      authz.check({ principal: anonymous, method: 'tools/call', params: { name: 'echo' } }),
    ).toEqual({ allowed: true });
    expect(
      authz.check({ principal: anonymous, method: 'tools/call', params: { name: 'db_x' } }).allowed,
    ).toBe(false);
  });

  it('runs policies after the role check: a role denial is reported, not the policy', () => {
    const test = vi.fn(() => false);
    const { authz, denied } = setup({ policies: [{ type: 'custom', name: 'never', test }] });
    const decision = authz.check({ principal: alice, method: 'tools/call', params: { name: 'x' } });
    expect(decision).toMatchObject({ reason: 'missing permission tools:call:x' });
    expect(test).not.toHaveBeenCalled();
    expect(denied).toHaveLength(1);
  });

  it('denies when a policy refuses what the roles grant (deny wins), and audits it', () => {
    const { authz, denied } = setup({
      policies: [
        { type: 'time', name: 'hours', windows: [{ hours: '09:00-17:00' }] },
        { type: 'cidr', name: 'office', allow: ['10.0.0.0/8'], permissions: ['tools:*'] },
      ],
    });
    const call = (remoteAddress: string | undefined, now?: number) =>
      authz.check({
        principal: alice,
        method: 'tools/call',
        params: { name: 'echo' },
        remoteAddress,
        now,
      });
    expect(call('10.1.1.1')).toEqual({ allowed: true });
    expect(call('::ffff:10.1.1.1')).toEqual({ allowed: true });
    expect(call('192.0.2.1')).toEqual({
      allowed: false,
      reason: 'denied by policy office: client address not allowed',
      permission: 'tools:call:echo',
    });
    expect(call(undefined).allowed).toBe(false);
    const evening = Date.parse('2025-01-06T18:00:00Z');
    expect(call('10.1.1.1', evening)).toMatchObject({
      reason: 'denied by policy hours: outside the allowed hours',
    });
    expect(denied.map((d) => [d.reason, d.time])).toEqual([
      ['denied by policy office: client address not allowed', '2025-01-06T12:00:00.000Z'],
      ['denied by policy office: client address unknown', '2025-01-06T12:00:00.000Z'],
      ['denied by policy hours: outside the allowed hours', '2025-01-06T18:00:00.000Z'],
    ]);
    // The office policy is scoped to tools: a prompt from outside is fine.
    expect(
      authz.check({
        principal: alice,
        method: 'prompts/get',
        params: { name: 'review' },
        remoteAddress: '192.0.2.1',
      }).allowed,
    ).toBe(true);
  });

  it('keeps the decision when the audit sink or a policy throws, and reports the error', () => {
    const onError = vi.fn();
    const sinkError = new Error('disk full');
    const authz = createAuthorizer({
      roles: ROLES,
      onDenied: () => {
        throw sinkError;
      },
      onError,
      policies: [
        {
          type: 'custom',
          name: 'flaky',
          permissions: ['prompts:*'],
          test: () => {
            throw new Error('bug');
          },
        },
      ],
    });
    expect(
      authz.check({ principal: alice, method: 'tools/call', params: { name: 'x' } }),
    ).toMatchObject({ allowed: false });
    expect(onError).toHaveBeenCalledWith(sinkError);
    onError.mockClear();
    expect(
      authz.check({ principal: alice, method: 'prompts/get', params: { name: 'review' } }),
    ).toMatchObject({ allowed: false, reason: 'denied by policy flaky: policy failed' });
    expect(onError).toHaveBeenCalledTimes(2); // the policy's error, then the sink's
  });

  it('passes the custom policy the action, permission, address and clock', () => {
    const test = vi.fn(() => true);
    const { authz } = setup({ policies: [{ type: 'custom', name: 'spy', test }] });
    authz.check({
      principal: anonymous,
      method: 'tools/call',
      params: { name: 'echo' },
      remoteAddress: '::1',
    });
    expect(test).toHaveBeenCalledWith({
      principal: anonymous,
      roles: ['guest'],
      action: { kind: 'tools:call', name: 'echo' },
      method: 'tools/call',
      permission: 'tools:call:echo',
      remoteAddress: '::1',
      now: NOW,
    });
  });

  it('truncates a very long permission in the reason and the audit line', () => {
    const { authz, denied } = setup();
    const name = 'x'.repeat(10_000);
    const decision = authz.check({ principal: alice, method: 'tools/call', params: { name } });
    const shown = `tools:call:${name}`.slice(0, MAX_SHOWN_PERMISSION_LENGTH) + '…';
    expect(decision).toEqual({
      allowed: false,
      reason: `missing permission ${shown}`,
      permission: shown,
    });
    expect(denied[0]?.permission).toBe(shown);
  });

  it('escapes control characters of the client-supplied target', () => {
    const { authz, denied } = setup();
    const decision = authz.check({
      principal: alice,
      method: 'tools/call',
      params: { name: 'x\r\nSet-Cookie: a\u2028\u0000' },
    });
    expect(decision).toEqual({
      allowed: false,
      reason: 'missing permission tools:call:x\\u000d\\u000aSet-Cookie: a\\u2028\\u0000',
      permission: 'tools:call:x\\u000d\\u000aSet-Cookie: a\\u2028\\u0000',
    });
    for (const c of ['\r', '\n', '\u2028', '\u0000']) expect(denied[0]?.reason).not.toContain(c);
  });

  it('throws AuthzError for invalid configuration, listing the problems', () => {
    expect(() => createAuthorizer({ roles: { ops: ['tools:call'] } })).toThrow(AuthzError);
    expect(() =>
      createAuthorizer({ roles: { ops: ['tools:call'] }, anonymousRoles: ['guest'] }),
    ).toThrow(
      'authorization config: roles.ops[0]: malformed permission "tools:call": tools:call needs ' +
        'a target (tools:call:* for all); anonymousRoles[0]: anonymous role "guest" is not ' +
        'defined in roles',
    );
    expect(() =>
      createAuthorizer({ policies: [{ type: 'cidr', allow: ['10.0.0.0/40'] }] }),
    ).toThrow(/not an IPv4\/IPv6 address/);
  });
});

describe('rate policies', () => {
  const rate = {
    type: 'rate' as const,
    name: 'db-reads',
    capacity: 2,
    refillPerSecond: 1,
    permissions: ['tools:call:db_*'],
  };

  it('never refuse in check; an allowed request in scope owes a take per principal and action', () => {
    const { authz, denied } = setup({ policies: [rate] });
    expect(authz.ratePolicies).toEqual([{ label: 'db-reads', capacity: 2, refillPerSecond: 1 }]);
    const call = (name: string) =>
      authz.check({ principal: alice, method: 'tools/call', params: { name } });
    expect(call('db_query')).toEqual({
      allowed: true,
      charges: [{ policy: 'db-reads', key: 'alice|tools:call:db_query' }],
    });
    // Out of scope: nothing owed.
    expect(call('echo')).toEqual({ allowed: true });
    // A denial stays a denial: no charge for what does not run.
    expect(call('rm_rf')).toMatchObject({ allowed: false });
    expect(denied).toHaveLength(1);
  });

  it('are scoped by principals and roles like any policy, and labelled by index', () => {
    const { authz } = setup({
      policies: [{ type: 'rate', capacity: 1, refillPerSecond: 1, roles: ['guest'] }],
    });
    expect(authz.ratePolicies.map((p) => p.label)).toEqual(['#0']);
    const echo = { method: 'tools/call', params: { name: 'echo' } };
    expect(authz.check({ principal: alice, ...echo })).toEqual({ allowed: true });
    expect(authz.check({ principal: anonymous, ...echo })).toEqual({
      allowed: true,
      charges: [{ policy: '#0', key: 'anonymous|tools:call:echo' }],
    });
  });

  it('refuse a bucket that is not positive', () => {
    expect(() => createAuthorizer({ roles: ROLES, policies: [{ ...rate, capacity: 0 }] })).toThrow(
      AuthzError,
    );
  });
});

describe('filterList', () => {
  const { authz } = setup();

  it('filters tools and prompts by name, keeping other fields and not mutating the input', () => {
    const result = Object.freeze({
      tools: Object.freeze([{ name: 'echo' }, { name: 'delete_db' }, { name: 'db_query' }]),
      nextCursor: 'c2',
      _meta: { x: 1 },
    });
    const filtered = authz.filterList(alice, 'tools/list', result);
    expect(filtered).toEqual({
      tools: [{ name: 'echo' }, { name: 'db_query' }],
      nextCursor: 'c2',
      _meta: { x: 1 },
    });
    expect(filtered).not.toBe(result);
    expect(result.tools).toHaveLength(3);
    expect(
      authz.filterList(alice, 'prompts/list', { prompts: [{ name: 'review' }, { name: 'x' }] }),
    ).toEqual({ prompts: [{ name: 'review' }] });
  });

  it('marks a modern public list private, since it now depends on the principal', () => {
    const result = {
      tools: [{ name: 'echo' }],
      resultType: 'complete',
      ttlMs: 1,
      cacheScope: 'public',
    };
    expect(authz.filterList(alice, 'tools/list', result)).toEqual({
      tools: [{ name: 'echo' }],
      resultType: 'complete',
      ttlMs: 1,
      cacheScope: 'private',
    });
    expect(result.cacheScope).toBe('public');
    const off = createAuthorizer(undefined);
    expect(off.filterList(alice, 'tools/list', result).cacheScope).toBe('public');
  });

  it('filters resources by uri', () => {
    expect(
      authz.filterList(alice, 'resources/list', {
        resources: [
          { uri: 'file:///docs/a.md', name: 'a' },
          { uri: 'file:///etc/passwd', name: 'p' },
          { uri: 'db://main/tables', name: 't' },
          { uri: 'db://a/b/tables', name: 'deep' },
        ],
      }),
    ).toEqual({
      resources: [
        { uri: 'file:///docs/a.md', name: 'a' },
        { uri: 'db://main/tables', name: 't' },
      ],
    });
  });

  it('shows a template when its text is readable under the principal patterns', () => {
    const templates = {
      resourceTemplates: [
        { uriTemplate: 'file:///docs/{path}', name: 'docs' },
        { uriTemplate: 'db://{db}/tables', name: 'tables' },
        { uriTemplate: 'file:///etc/{path}', name: 'etc' },
        { uriTemplate: 'db://{db}/rows/{id}', name: 'rows' },
      ],
      nextCursor: 'n',
    };
    expect(
      authz.filterList(alice, 'resources/templates/list', templates).resourceTemplates,
    ).toEqual([
      { uriTemplate: 'file:///docs/{path}', name: 'docs' },
      { uriTemplate: 'db://{db}/tables', name: 'tables' },
    ]);
    const all = createAuthorizer({ roles: { r: ['resources:read:**'] } });
    const reader: Principal = { id: 'r', kind: 'user', roles: ['r'] };
    expect(
      all.filterList(reader, 'resources/templates/list', templates).resourceTemplates,
    ).toHaveLength(4);
  });

  it('hides items without a string key and leaves other results alone', () => {
    expect(
      authz.filterList(alice, 'tools/list', { tools: [{ title: 'no name' }, 'echo', null] }),
    ).toEqual({ tools: [] });
    const other = { content: [{ type: 'text', text: 'x' }] };
    expect(authz.filterList(alice, 'tools/call', other)).toBe(other);
    const odd = { tools: 'not an array' };
    expect(authz.filterList(alice, 'tools/list', odd)).toBe(odd);
  });

  it('does not audit hidden items', () => {
    const { authz: audited, denied } = setup();
    audited.filterList(alice, 'tools/list', { tools: [{ name: 'delete_db' }] });
    expect(denied).toEqual([]);
  });

  it('knows which methods it filters', () => {
    expect(isFilteredList('resources/templates/list')).toBe(true);
    expect(isFilteredList('tasks/list')).toBe(false);
  });
});

describe('jsonLineAudit', () => {
  it('writes one JSON line per entry, without undefined fields, with line separators escaped', () => {
    const lines: string[] = [];
    const sink = jsonLineAudit((line) => lines.push(line));
    sink({
      time: '2025-01-06T12:00:00.000Z',
      principal: 'alice',
      kind: 'tools:call',
      method: 'tools/call',
      permission: 'tools:call:a\u2028b\nc',
      reason: 'missing permission tools:call:a\u2028b\nc',
    });
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line).not.toMatch(/[\n\u2028\u2029]/);
    expect(line.startsWith('{"event":"authz.denied","time":"2025-01-06T12:00:00.000Z"')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      event: 'authz.denied',
      time: '2025-01-06T12:00:00.000Z',
      principal: 'alice',
      kind: 'tools:call',
      method: 'tools/call',
      permission: 'tools:call:a\u2028b\nc',
      reason: 'missing permission tools:call:a\u2028b\nc',
    });
  });

  it('plugs into createAuthorizer', () => {
    const lines: string[] = [];
    const authz = createAuthorizer({
      roles: {},
      onDenied: jsonLineAudit((l) => lines.push(l)),
      now: () => NOW,
    });
    authz.check({ principal: alice, method: 'tasks/list', remoteAddress: '::1' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        event: 'authz.denied',
        time: '2025-01-06T12:00:00.000Z',
        principal: 'alice',
        kind: 'tasks:list',
        method: 'tasks/list',
        permission: 'tasks:list',
        reason: 'missing permission tasks:list',
        remoteAddress: '::1',
      },
    ]);
  });
});
