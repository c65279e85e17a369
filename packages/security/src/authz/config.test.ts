import { describe, expect, it } from 'vitest';
import { AuthzConfigSchema, AuthzOptionsSchema, PermissionSchema } from './config.js';

const issues = (value: unknown) => {
  const result = AuthzConfigSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('AuthzConfigSchema', () => {
  it('accepts a full JSON configuration', () => {
    const config = {
      roles: { reader: ['resources:read:file:///docs/**'], admin: ['*'] },
      anonymousRoles: ['reader'],
      allowUnknownMethods: false,
      policies: [
        { type: 'cidr', name: 'office', allow: ['10.0.0.0/8', '::1'], roles: ['admin'] },
        {
          type: 'time',
          utcOffset: '+02:00',
          windows: [{ days: ['mon', 'fri'], hours: '22:00-06:00' }, { days: ['sat'] }],
          permissions: ['tools:call:deploy_*'],
        },
      ],
    };
    expect(issues(config)).toEqual([]);
    expect(AuthzConfigSchema.parse(config)).toEqual(config);
    expect(issues({})).toEqual([]);
  });

  it('reports malformed permissions with their path and reason', () => {
    expect(issues({ roles: { ops: ['tools:call:ok', 'tools:call'] } })).toEqual([
      'roles.ops.1: malformed permission "tools:call": tools:call needs a target (tools:call:* for all)',
    ]);
    expect(PermissionSchema.safeParse('resources:read:db://*/tables').success).toBe(true);
  });

  it('refuses bad policies, unknown fields and undefined anonymous roles', () => {
    expect(issues({ policies: [{ type: 'cidr' }] })).toEqual([
      'policies.0: a cidr policy needs allow or deny',
    ]);
    expect(issues({ policies: [{ type: 'cidr', allow: ['10.0.0.0/33'] }] })[0]).toMatch(
      /^policies\.0\.allow\.0: not an IPv4\/IPv6 address/,
    );
    expect(issues({ policies: [{ type: 'time', windows: [] }] })[0]).toMatch(
      /^policies\.0\.windows/,
    );
    expect(
      issues({ policies: [{ type: 'time', windows: [{ hours: '9-17' }], utcOffset: 'CET' }] }),
    ).toHaveLength(2);
    expect(issues({ policies: [{ type: 'time', windows: [{ days: ['monday'] }] }] })).toHaveLength(
      1,
    );
    expect(issues({ policies: [{ type: 'rateLimit' }] })).toHaveLength(1);
    expect(issues({ policies: [{ type: 'custom', name: 'x' }] })).toHaveLength(1);
    expect(issues({ policies: [{ type: 'cidr', deny: ['::1'], name: 'has space' }] })).toHaveLength(
      1,
    );
    expect(issues({ role: {} })).toHaveLength(1);
    expect(issues({ roles: { a: [] }, anonymousRoles: ['a', 'b'] })).toEqual([
      'anonymousRoles.1: anonymous role "b" is not defined in roles',
    ]);
    expect(issues({ roles: { '': ['*'] } })).toHaveLength(1);
  });
});

describe('AuthzOptionsSchema', () => {
  it('accepts custom policies with a name and a function, and code-only options', () => {
    const ok = AuthzOptionsSchema.safeParse({
      policies: [{ type: 'custom', name: 'c', test: () => true }],
      onDenied: () => {},
    });
    expect(ok.success).toBe(true);
    expect(
      AuthzOptionsSchema.safeParse({ policies: [{ type: 'custom', name: 'c', test: 'x' }] })
        .success,
    ).toBe(false);
    expect(
      AuthzOptionsSchema.safeParse({ policies: [{ type: 'custom', test: () => true }] }).success,
    ).toBe(false);
  });
});
