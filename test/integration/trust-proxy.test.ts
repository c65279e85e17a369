/**
 * Behind a reverse proxy (an ingress, a load balancer) every connection comes from the proxy:
 * with `trustProxy` naming it, the client address that lockouts, cidr policies and audit
 * lines use is the one the proxy writes in `X-Forwarded-For`, taken from the right (the
 * proxy's own entry), so addresses a client prepends itself change nothing. Without it the
 * header is ignored: the attack suite (test/security) shows a spoofed one does not dodge a
 * lockout. The embedded node, real sockets; the test process is the "proxy" on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '@mcp-cluster/components';
import { resolveConfig } from '@mcp-cluster/config';
import { RpcError } from '@mcp-cluster/protocol';
import { findResponse, modernRequest, postMcp } from '@mcp-cluster/testkit';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';

const TOKEN = 'trust-proxy-test-token-0123456789abcdef';
const MAX_FAILURES = 3;
const BLOCKED_NET = '203.0.113.0/24';

let runs = 0;
const ping = defineTool({
  name: 'ping',
  description: 'Counts its runs',
  handler: () => {
    runs += 1;
    return 'pong';
  },
});

let node: RunningNode;

beforeAll(async () => {
  node = await startNode(
    resolveConfig({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      trustProxy: ['127.0.0.0/8', '::1'],
      auth: {
        allowAnonymous: false,
        audit: false,
        staticTokens: [
          { token: TOKEN, principal: { id: 'svc', kind: 'service', roles: ['caller'] } },
        ],
        authz: {
          roles: { caller: ['tools:call:ping'] },
          policies: [{ type: 'cidr', deny: [BLOCKED_NET] }],
        },
        lockout: { maxFailures: MAX_FAILURES },
      },
    }),
  );
  node.engine.registry.add(ping);
});

afterAll(async () => {
  await node?.close();
});

/** A tools/call of `ping` as forwarded by the proxy for `forwardedFor`. */
async function call(forwardedFor: string, token = TOKEN) {
  const { body, headers } = modernRequest('tools/call', { name: 'ping', arguments: {} });
  const r = await postMcp(node.url, body, {
    ...headers,
    authorization: `Bearer ${token}`,
    'x-forwarded-for': forwardedFor,
  });
  return { status: r.status, response: findResponse(r.messages) };
}

describe('trustProxy: the client address comes from the trusted proxy', () => {
  it('a cidr policy sees the forwarded client, not the proxy', async () => {
    const before = runs;
    const blocked = await call('203.0.113.9');
    expect(blocked.status).toBe(403);
    expect(blocked.response?.['error']).toMatchObject({ code: RpcError.Forbidden.code });
    expect(runs).toBe(before);
    const allowed = await call('198.51.100.20');
    expect(allowed.status).toBe(200);
    expect(allowed.response?.['result']).toBeDefined();
    expect(runs).toBe(before + 1);
  });

  it('addresses the client prepends are not believed: the rightmost untrusted entry is', async () => {
    // The client wrote "198.51.100.21"; the proxy appended the address it saw.
    const spoofedAllowed = await call('198.51.100.21, 203.0.113.10');
    expect(spoofedAllowed.status).toBe(403);
    // A chain of trusted proxies is walked through to the client.
    const viaTwoProxies = await call('203.0.113.11, 127.0.0.5');
    expect(viaTwoProxies.status).toBe(403);
  });

  it('lockout counts per forwarded client: one client locked, another behind the same proxy not', async () => {
    const attacker = '198.51.100.30';
    // The failure that reaches the limit is answered 429 already.
    for (let i = 0; i < MAX_FAILURES; i++) {
      const r = await call(attacker, `wrong-token-${i}-0123456789abcdef`);
      expect(r.status).toBe(i < MAX_FAILURES - 1 ? 401 : 429);
    }
    const locked = await call(attacker);
    expect(locked.status).toBe(429);
    expect(locked.response?.['error']).toMatchObject({ code: RpcError.RateLimited.code });
    const neighbour = await call('198.51.100.31');
    expect(neighbour.status).toBe(200);
  });
});
