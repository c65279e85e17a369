/**
 * Membership: the router's pool follows the registry, and what the workers publish about
 * their tools (which names exist, which may be run twice) is what the gateway decides on.
 */
import { MemoryComponentRegistry } from '@mcp-cluster/cluster';
import type { WorkerComponents } from '@mcp-cluster/cluster';
import { Router } from '@mcp-cluster/router';
import { describe, expect, it } from 'vitest';
import { Membership } from './workers.js';

const components = (tools: string[], repeatableTools?: string[]): WorkerComponents => ({
  tools,
  prompts: [],
  resources: [],
  resourceTemplates: [],
  ...(repeatableTools === undefined ? {} : { repeatableTools }),
});

describe('Membership: repeatable tools', () => {
  it('a tool is repeatable only when every worker serving it says so', async () => {
    const registry = new MemoryComponentRegistry();
    const membership = new Membership(registry, new Router(), { forget() {} }, () => {});
    await registry.register('w1', {
      url: 'http://w1.invalid',
      components: components(['search', 'delete_row', 'lookup'], ['search', 'lookup']),
    });
    await registry.register('w2', {
      url: 'http://w2.invalid',
      components: components(['search', 'lookup'], ['search']),
    });
    // A worker that predates repeatableTools publishes none: its tools are never repeated.
    await registry.register('w3', { url: 'http://w3.invalid', components: components(['old']) });
    await membership.sync();
    expect(membership.repeatableTool('search')).toBe(true);
    expect(membership.repeatableTool('lookup')).toBe(false);
    expect(membership.repeatableTool('delete_row')).toBe(false);
    expect(membership.repeatableTool('old')).toBe(false);
    expect(membership.repeatableTool('unknown')).toBe(false);
    // w2 gone: lookup is served by w1 alone, which calls it repeatable.
    await registry.unregister('w2');
    await membership.sync();
    expect(membership.repeatableTool('lookup')).toBe(true);
  });
});
