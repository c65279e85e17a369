import { describe, expect, it } from 'vitest';
import { actionOf, isActionKind, LIST_SHAPES, permissionOf } from './actions.js';

describe('actionOf', () => {
  it.each([
    'initialize',
    'ping',
    'notifications/initialized',
    'notifications/cancelled',
    'notifications/roots/list_changed',
    'logging/setLevel',
    'server/discover',
    'subscriptions/listen',
    'tools/list',
    'prompts/list',
    'resources/list',
    'resources/templates/list',
  ])('needs no permission for %s', (method) => {
    expect(actionOf(method, { name: 'x', uri: 'y' })).toBeUndefined();
  });

  it('maps tools/call, prompts/get and the resource methods to their target', () => {
    expect(actionOf('tools/call', { name: 'delete_db', arguments: { x: 1 } })).toEqual({
      kind: 'tools:call',
      name: 'delete_db',
    });
    expect(actionOf('prompts/get', { name: 'review' })).toEqual({
      kind: 'prompts:get',
      name: 'review',
    });
    for (const method of ['resources/read', 'resources/subscribe', 'resources/unsubscribe']) {
      expect(actionOf(method, { uri: 'file:///a:b' })).toEqual({
        kind: 'resources:read',
        name: 'file:///a:b',
      });
    }
  });

  it('maps every task method to its verb, without a target', () => {
    for (const verb of ['get', 'list', 'cancel', 'result', 'update']) {
      expect(actionOf(`tasks/${verb}`, { taskId: 't1' })).toEqual({ kind: `tasks:${verb}` });
    }
  });

  it('maps completion/complete by its ref', () => {
    const argument = { name: 'a', value: 'v' };
    expect(
      actionOf('completion/complete', { ref: { type: 'ref/prompt', name: 'review' }, argument }),
    ).toEqual({ kind: 'prompts:get', name: 'review' });
    expect(
      actionOf('completion/complete', {
        ref: { type: 'ref/resource', uri: 'file:///{path}' },
        argument,
      }),
    ).toEqual({ kind: 'resources:read', name: 'file:///{path}' });
    expect(actionOf('completion/complete', { ref: { type: 'ref/tool', name: 'x' } })).toEqual({
      kind: 'completion:complete',
    });
    expect(actionOf('completion/complete', { ref: ['ref/prompt'] })).toEqual({
      kind: 'completion:complete',
    });
    expect(actionOf('completion/complete', undefined)).toEqual({ kind: 'completion:complete' });
  });

  it('checks a missing or non-string target as the empty name', () => {
    expect(actionOf('tools/call', undefined)).toEqual({ kind: 'tools:call', name: '' });
    expect(actionOf('tools/call', { name: 42 })).toEqual({ kind: 'tools:call', name: '' });
    expect(actionOf('resources/read', { uri: { href: 'x' } })).toEqual({
      kind: 'resources:read',
      name: '',
    });
    expect(actionOf('completion/complete', { ref: { type: 'ref/prompt' } })).toEqual({
      kind: 'prompts:get',
      name: '',
    });
  });

  it('maps unknown methods to the method kind', () => {
    expect(actionOf('skills/get', { uri: 'skill://x' })).toEqual({
      kind: 'method',
      name: 'skills/get',
    });
    expect(actionOf('tasks/frobnicate', {})).toEqual({ kind: 'method', name: 'tasks/frobnicate' });
    // A method name that only looks like a notification prefix is still a method.
    expect(actionOf('notificationsx', {})).toEqual({ kind: 'method', name: 'notificationsx' });
  });
});

describe('permissionOf', () => {
  it('joins kind and name', () => {
    expect(permissionOf({ kind: 'tools:call', name: 'delete_db' })).toBe('tools:call:delete_db');
    expect(permissionOf({ kind: 'tasks:get' })).toBe('tasks:get');
    expect(permissionOf({ kind: 'method', name: 'skills/get' })).toBe('method:skills/get');
  });

  it('knows the kinds', () => {
    expect(isActionKind('tools:call')).toBe(true);
    expect(isActionKind('tools:list')).toBe(false);
    expect(isActionKind('toString')).toBe(false);
    expect(LIST_SHAPES.get('resources/templates/list')).toEqual({
      field: 'resourceTemplates',
      key: 'uriTemplate',
      kind: 'resources:read',
    });
  });
});
