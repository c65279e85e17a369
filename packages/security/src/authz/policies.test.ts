import { describe, expect, it, vi } from 'vitest';
import type { Principal } from '../principal.js';
import type { Action } from './actions.js';
import type { CustomPolicy, PolicyConfig } from './config.js';
import { compilePolicy, evaluatePolicies, type PolicyInput } from './policies.js';

const alice: Principal = { id: 'alice', kind: 'user', roles: ['dev'] };
const MONDAY_NOON = Date.parse('2025-01-06T12:00:00Z');

function input(overrides: Partial<PolicyInput> = {}): PolicyInput {
  const action: Action = overrides.action ?? { kind: 'tools:call', name: 'deploy' };
  return {
    principal: alice,
    roles: alice.roles,
    action,
    method: 'tools/call',
    permission: 'tools:call:deploy',
    remoteAddress: '10.1.2.3',
    now: MONDAY_NOON,
    ...overrides,
  };
}

function run(policies: readonly (PolicyConfig | CustomPolicy)[], given: PolicyInput = input()) {
  const onError = vi.fn();
  const denial = evaluatePolicies(
    policies.map((p, i) => compilePolicy(p, i)),
    given,
    onError,
  );
  return { denial, onError };
}

describe('cidr policies', () => {
  it('allows inside the allow list, refuses outside it', () => {
    const policy: PolicyConfig = { type: 'cidr', name: 'office', allow: ['10.0.0.0/8'] };
    expect(run([policy]).denial).toBeUndefined();
    expect(run([policy], input({ remoteAddress: '::ffff:10.9.9.9' })).denial).toBeUndefined();
    expect(run([policy], input({ remoteAddress: '192.168.0.1' })).denial).toEqual({
      policy: 'office',
      reason: 'denied by policy office: client address not allowed',
    });
  });

  it('refuses inside the deny list, even when the allow list admits the address', () => {
    const policy: PolicyConfig = {
      type: 'cidr',
      allow: ['10.0.0.0/8', '2001:db8::/32'],
      deny: ['10.1.0.0/16', '2001:db8:bad::/48'],
    };
    expect(run([policy]).denial?.reason).toBe('denied by policy #0: client address not allowed');
    expect(run([policy], input({ remoteAddress: '10.2.0.1' })).denial).toBeUndefined();
    expect(run([policy], input({ remoteAddress: '2001:db8:bad::1' })).denial).toBeDefined();
    expect(run([policy], input({ remoteAddress: '2001:db8:900d::1' })).denial).toBeUndefined();
  });

  it('fails closed on an unknown address only when there is an allow list', () => {
    const allow: PolicyConfig = { type: 'cidr', allow: ['10.0.0.0/8'] };
    const deny: PolicyConfig = { type: 'cidr', deny: ['10.0.0.0/8'] };
    for (const remoteAddress of [undefined, 'not-an-ip']) {
      expect(run([allow], input({ remoteAddress })).denial?.reason).toBe(
        'denied by policy #0: client address unknown',
      );
      expect(run([deny], input({ remoteAddress })).denial).toBeUndefined();
    }
  });
});

describe('time policies', () => {
  const hours: PolicyConfig = {
    type: 'time',
    name: 'office-hours',
    utcOffset: '+01:00',
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-18:00' }],
  };

  it('allows inside a window and refuses outside, at the configured offset', () => {
    expect(run([hours]).denial).toBeUndefined();
    // 17:30 UTC is 18:30 at +01:00.
    expect(run([hours], input({ now: Date.parse('2025-01-06T17:30:00Z') })).denial).toEqual({
      policy: 'office-hours',
      reason: 'denied by policy office-hours: outside the allowed hours',
    });
    expect(run([hours], input({ now: Date.parse('2025-01-04T12:00:00Z') })).denial).toBeDefined();
  });

  it('allows when any window matches; a window without hours is the whole day', () => {
    const policy: PolicyConfig = {
      type: 'time',
      windows: [{ days: ['sat'] }, { hours: '22:00-02:00', days: ['mon'] }],
    };
    expect(
      run([policy], input({ now: Date.parse('2025-01-04T03:00:00Z') })).denial,
    ).toBeUndefined();
    expect(
      run([policy], input({ now: Date.parse('2025-01-07T01:00:00Z') })).denial,
    ).toBeUndefined();
    expect(run([policy], input({ now: Date.parse('2025-01-07T02:00:00Z') })).denial).toBeDefined();
    expect(run([policy]).denial).toBeDefined();
  });
});

describe('scope', () => {
  const night: PolicyConfig = { type: 'time', windows: [{ hours: '00:00-01:00' }] };

  it('applies to listed principals or roles only', () => {
    expect(run([{ ...night, principals: ['bob'] }]).denial).toBeUndefined();
    expect(run([{ ...night, principals: ['alice'] }]).denial).toBeDefined();
    expect(run([{ ...night, roles: ['ops'] }]).denial).toBeUndefined();
    expect(run([{ ...night, roles: ['ops', 'dev'] }]).denial).toBeDefined();
    // Either list suffices.
    expect(run([{ ...night, principals: ['bob'], roles: ['dev'] }]).denial).toBeDefined();
    // Effective roles (e.g. anonymous roles) come from the input, not the principal.
    expect(run([{ ...night, roles: ['guest'] }], input({ roles: ['guest'] })).denial).toBeDefined();
  });

  it('applies to matching permissions only', () => {
    expect(run([{ ...night, permissions: ['tools:call:db_*'] }]).denial).toBeUndefined();
    expect(run([{ ...night, permissions: ['tools:call:deploy'] }]).denial).toBeDefined();
    expect(run([{ ...night, permissions: ['resources:*', 'tools:*'] }]).denial).toBeDefined();
    const read = input({ action: { kind: 'resources:read', name: 'file:///x' } });
    expect(run([{ ...night, permissions: ['tools:*'] }], read).denial).toBeUndefined();
  });

  it('needs both subject and permission to match', () => {
    const policy = { ...night, roles: ['dev'], permissions: ['prompts:*'] };
    expect(run([policy]).denial).toBeUndefined();
  });
});

describe('custom policies and ordering', () => {
  it('passes the input and honours false and { allow: false, reason }', () => {
    const test = vi.fn<CustomPolicy['test']>(() => true);
    const given = input();
    expect(run([{ type: 'custom', name: 'c', test }], given).denial).toBeUndefined();
    expect(test).toHaveBeenCalledWith(given);
    expect(run([{ type: 'custom', name: 'c', test: () => false }]).denial?.reason).toBe(
      'denied by policy c: not allowed',
    );
    expect(
      run([{ type: 'custom', name: 'c', test: () => ({ allow: false, reason: 'frozen' }) }]).denial
        ?.reason,
    ).toBe('denied by policy c: frozen');
  });

  it('refuses when a predicate throws and reports the error', () => {
    const boom = new Error('boom');
    const { denial, onError } = run([
      {
        type: 'custom',
        name: 'flaky',
        test: () => {
          throw boom;
        },
      },
    ]);
    expect(denial?.reason).toBe('denied by policy flaky: policy failed');
    expect(onError).toHaveBeenCalledWith(boom, 'flaky');
  });

  it('stops at the first refusal: deny wins over any number of allows', () => {
    const later = vi.fn(() => true);
    const { denial } = run([
      { type: 'custom', name: 'yes', test: () => true },
      { type: 'cidr', name: 'net', deny: ['10.0.0.0/8'] },
      { type: 'custom', name: 'later', test: later },
    ]);
    expect(denial?.policy).toBe('net');
    expect(later).not.toHaveBeenCalled();
  });

  it('skips policies out of scope without calling them', () => {
    const test = vi.fn(() => false);
    expect(run([{ type: 'custom', name: 'x', principals: ['bob'], test }]).denial).toBeUndefined();
    expect(test).not.toHaveBeenCalled();
  });
});
