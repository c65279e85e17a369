import { describe, expect, it } from 'vitest';
import type { Action } from './actions.js';
import { AuthzError } from './errors.js';
import {
  Glob,
  MAX_PERMISSION_LENGTH,
  MAX_TARGET_LENGTH,
  parsePermission,
  permissionProblem,
  PermissionSet,
} from './permissions.js';

const tool = (name: string): Action => ({ kind: 'tools:call', name });
const uri = (name: string): Action => ({ kind: 'resources:read', name });
const allows = (perms: string[], action: Action) => new PermissionSet(perms).allows(action);

describe('parsePermission', () => {
  it('parses every form', () => {
    expect(parsePermission('*')).toEqual({ type: 'all', source: '*' });
    expect(parsePermission('tools:*')).toMatchObject({ type: 'family', family: 'tools' });
    expect(parsePermission('tasks:*')).toMatchObject({ type: 'family', family: 'tasks' });
    expect(parsePermission('tasks:get')).toMatchObject({ type: 'kind', kind: 'tasks:get' });
    expect(parsePermission('completion:complete')).toMatchObject({ type: 'kind' });
    expect(parsePermission('tools:call:*')).toMatchObject({ type: 'kind', kind: 'tools:call' });
    expect(parsePermission('resources:read:**')).toMatchObject({ type: 'kind' });
    expect(parsePermission('method:*')).toMatchObject({ type: 'kind', kind: 'method' });
    expect(parsePermission('tools:call:db_*')).toMatchObject({
      type: 'target',
      kind: 'tools:call',
    });
    expect(parsePermission('method:skills/get')).toMatchObject({ type: 'target', kind: 'method' });
  });

  it('splits only the first two colons, so uris keep theirs', () => {
    const p = parsePermission('resources:read:file:///docs/a:b.md');
    expect(p.type === 'target' && p.pattern.source).toBe('file:///docs/a:b.md');
    expect(p.type === 'target' && p.pattern.matches('file:///docs/a:b.md')).toBe(true);
  });

  it.each([
    ['', /empty/],
    ['tools', /expected/],
    ['tool:call:x', /unknown family "tool"/],
    ['tools:run:x', /unknown action "tools:run"/],
    ['tools:call', /needs a target/],
    ['tools:call:', /needs a target/],
    ['method:', /needs a target/],
    ['tasks:get:abc', /takes no target/],
    ['completion:complete:x', /takes no target/],
    ['tools:*:x', /unknown action "tools:\*"/],
    ['*:call:x', /unknown family/],
    ['tools:call:a b', /whitespace/],
    ['tools:call:a\nb', /whitespace/],
    ['tools:call:a\u0000', /control/],
    [`tools:call:${'x'.repeat(MAX_PERMISSION_LENGTH)}`, /longer than 512/],
    [`tools:call:${'a*'.repeat(17)}`, /more than 16 wildcards/],
  ])('refuses %j', (source, message) => {
    expect(() => parsePermission(source)).toThrow(AuthzError);
    expect(() => parsePermission(source)).toThrow(message);
    expect(permissionProblem(source)).toMatch(message);
  });

  it('quotes a long malformed permission truncated', () => {
    expect(permissionProblem(`tool:${'y'.repeat(300)}`)).toContain(`${'y'.repeat(75)}…`);
    expect(permissionProblem('tools:call:x')).toBeUndefined();
  });
});

describe('Glob', () => {
  it('matches names: * is any run, including / and the empty string', () => {
    const g = new Glob('db_*', 'name');
    expect(g.matches('db_read')).toBe(true);
    expect(g.matches('db_')).toBe(true);
    expect(g.matches('db_a/b')).toBe(true);
    expect(g.matches('xdb_read')).toBe(false);
    expect(g.matches('db')).toBe(false);
    expect(new Glob('*_admin', 'name').matches('x_admin')).toBe(true);
    expect(new Glob('a*b*c', 'name').matches('abc')).toBe(true);
    expect(new Glob('a*b*c', 'name').matches('aXbYcZ')).toBe(false);
    expect(new Glob('a**b', 'name').matches('a/x/b')).toBe(true);
  });

  it('treats regex metacharacters as literal', () => {
    const g = new Glob('a.b+(c)?[d]^$|\\{2}', 'name');
    expect(g.matches('a.b+(c)?[d]^$|\\{2}')).toBe(true);
    expect(g.matches('axbb(c)[d]^$|\\{2}')).toBe(false);
    const star = new Glob('x.*', 'name');
    expect(star.matches('x.y')).toBe(true);
    expect(star.matches('xy')).toBe(false);
  });

  it('matches uris: * stays in one segment, ** crosses segments', () => {
    const one = new Glob('db://*/tables', 'uri');
    expect(one.matches('db://main/tables')).toBe(true);
    expect(one.matches('db:///tables')).toBe(true);
    expect(one.matches('db://a/b/tables')).toBe(false);
    const deep = new Glob('file:///docs/**', 'uri');
    expect(deep.matches('file:///docs/a/b/c.md')).toBe(true);
    expect(deep.matches('file:///docs/')).toBe(true);
    expect(deep.matches('file:///docs')).toBe(false);
    expect(deep.matches('file:///docsx/a')).toBe(false);
    const seg = new Glob('file:///docs/*', 'uri');
    expect(seg.matches('file:///docs/a.md')).toBe(true);
    expect(seg.matches('file:///docs/a/b.md')).toBe(false);
    const ext = new Glob('file:///**/*.md', 'uri');
    expect(ext.matches('file:///a/b/c.md')).toBe(true);
    expect(ext.matches('file:///a/b.md/c.txt')).toBe(false);
  });

  it('mixes * and ** where a greedy match would go wrong', () => {
    // The leftmost "a" is followed by "/", so * cannot reach "b" from it; ** must take it.
    const g = new Glob('x**a*b', 'uri');
    expect(g.matches('xa/ab')).toBe(true);
    expect(g.matches('xa/a/b')).toBe(false);
    expect(new Glob('*/*', 'uri').matches('a/b')).toBe(true);
    expect(new Glob('*/*', 'uri').matches('a/b/c')).toBe(false);
    expect(new Glob('s://*:*/x', 'uri').matches('s://h:80/x')).toBe(true);
    // `*` next to `**` adds nothing: `***` and `*/**` style runs collapse.
    expect(new Glob('a***b', 'uri').matches('a/x/b')).toBe(true);
  });

  it('matches pathological patterns on long targets in linear-ish time', () => {
    const g = new Glob('*a*a*a*a*a*a*a*a*b*', 'name');
    const input = 'a'.repeat(MAX_TARGET_LENGTH);
    const started = performance.now();
    expect(g.matches(input)).toBe(false);
    expect(new Glob('*a*a*a*a*a*a*a*a*a', 'uri').matches(input)).toBe(true);
    // A backtracking RegExp takes minutes here; the scan takes milliseconds.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('never matches a wildcard pattern against an over-long target', () => {
    expect(new Glob('*', 'name').matches('x'.repeat(MAX_TARGET_LENGTH + 1))).toBe(false);
    expect(new Glob('*', 'name').matches('x'.repeat(MAX_TARGET_LENGTH))).toBe(true);
  });
});

describe('PermissionSet', () => {
  it('grants everything with *', () => {
    expect(allows(['*'], tool('anything'))).toBe(true);
    expect(allows(['*'], { kind: 'tasks:cancel' })).toBe(true);
    expect(allows(['*'], { kind: 'method', name: 'x/y' })).toBe(true);
  });

  it('grants a family, a kind, a literal target, a glob', () => {
    expect(allows(['tools:*'], tool('x'))).toBe(true);
    expect(allows(['tools:*'], uri('x'))).toBe(false);
    expect(allows(['tasks:*'], { kind: 'tasks:result' })).toBe(true);
    expect(allows(['tasks:get'], { kind: 'tasks:get' })).toBe(true);
    expect(allows(['tasks:get'], { kind: 'tasks:cancel' })).toBe(false);
    expect(allows(['tools:call:*'], tool(''))).toBe(true);
    expect(allows(['tools:call:echo'], tool('echo'))).toBe(true);
    expect(allows(['tools:call:echo'], tool('echo2'))).toBe(false);
    expect(allows(['tools:call:echo'], tool(''))).toBe(false);
    expect(allows(['tools:call:db_*'], tool('db_drop'))).toBe(true);
    expect(allows(['tools:call:db_*'], { kind: 'prompts:get', name: 'db_x' })).toBe(false);
  });

  it('treats a uri target of exactly * as every uri, slashes included', () => {
    expect(allows(['resources:read:*'], uri('file:///a/b/c'))).toBe(true);
    expect(allows(['resources:*'], uri('file:///a/b/c'))).toBe(true);
    expect(allows(['resources:read:file:*'], uri('file:///a'))).toBe(false);
    expect(allows(['resources:read:file:*'], uri('file:x'))).toBe(true);
  });

  it('does not let one permission leak into another kind or family', () => {
    const set = new PermissionSet(['prompts:get:*', 'completion:complete']);
    expect(set.allows(tool('x'))).toBe(false);
    expect(set.allows({ kind: 'tasks:get' })).toBe(false);
    expect(set.allows({ kind: 'method', name: 'prompts/get' })).toBe(false);
    expect(new PermissionSet([]).allows(tool('x'))).toBe(false);
    expect(new PermissionSet([]).empty).toBe(true);
  });

  it('grants over-long targets only through whole-kind grants', () => {
    const long = 'x'.repeat(MAX_TARGET_LENGTH + 1);
    expect(allows([`tools:call:x*`], tool(long))).toBe(false);
    expect(allows(['tools:call:*'], tool(long))).toBe(true);
    expect(allows(['tools:*'], tool(long))).toBe(true);
  });

  it('accepts parsed permissions and keeps them in order', () => {
    const set = new PermissionSet([parsePermission('tools:call:a'), 'tools:call:b']);
    expect(set.permissions.map((p) => p.source)).toEqual(['tools:call:a', 'tools:call:b']);
    expect(() => new PermissionSet(['nope'])).toThrow(AuthzError);
  });
});
