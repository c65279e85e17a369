/**
 * The built-in token service through the real embedded node: `POST /oauth/token` and
 * `POST /oauth/revoke` beside `/mcp`, tokens used as Bearer credentials, refresh rotation
 * with reuse detection, revocation, API keys as client secrets, and the per-address lockout
 * the token endpoint shares with `/mcp`.
 *
 * Every test speaks from its own loopback address (127.0.0.N via `localAddress`): the
 * lockout counts failures per client address, so one test's refusals cannot lock out another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '@mcp-cluster/components';
import { resolveConfig } from '@mcp-cluster/config';
import { FileApiKeyStore, hashPassword } from '@mcp-cluster/security';
import { modernRequest, readMcpResponse, textOf } from '@mcp-cluster/testkit';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';

const SECRET = 'integration-test-hmac-secret-0123456789abcdef';
const MAX_FAILURES = 5;

/** Reports the principal the engine hands to tool handlers. */
const whoami = defineTool({
  name: 'whoami',
  description: 'The caller as the server authenticated it',
  handler: (_args, ctx) => JSON.stringify({ id: ctx.principal.id, roles: ctx.principal.roles }),
});

let dir: string;
let ciKey: string;
let node: RunningNode;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-token-service-'));
  const apiKeysFile = path.join(dir, 'api-keys.json');
  ciKey = (
    await new FileApiKeyStore(apiKeysFile).create({
      principal: 'ci',
      kind: 'service',
      roles: ['reader'],
    })
  ).key;
  const hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  node = await startNode(
    resolveConfig({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      auth: {
        allowAnonymous: false,
        audit: false,
        basic: { users: [{ username: 'svc', hash, roles: ['reader'] }] },
        apiKeys: { file: apiKeysFile },
        tokenService: {
          issuer: 'https://mcp.test',
          audience: 'https://mcp.test/mcp',
          signingKey: { alg: 'HS256', secret: SECRET, kid: 't1' },
        },
        authz: { roles: { reader: ['tools:call:whoami'] } },
        lockout: { maxFailures: MAX_FAILURES },
      },
    }),
  );
  node.engine.registry.add(whoami);
});

afterAll(async () => {
  await node?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

let lastOctet = 10;
/** A loopback address no other test uses (Linux routes all of 127.0.0.0/8 to lo). */
const freshAddress = (): string => `127.0.0.${lastOctet++}`;

interface RawReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function send(
  pathname: string,
  from: string,
  headers: Record<string, string>,
  body: string,
): Promise<RawReply> {
  return new Promise<RawReply>((resolve, reject) => {
    const req = http.request(
      new URL(pathname, node.url),
      { method: 'POST', headers, localAddress: from, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, secret: string): string =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const bearer = (token: string): string => `Bearer ${token}`;

interface TokenReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** A form POST to an OAuth endpoint, with HTTP Basic client authentication when given. */
async function oauth(
  endpoint: '/oauth/token' | '/oauth/revoke',
  from: string,
  params: Record<string, string>,
  authorization?: string,
): Promise<TokenReply> {
  const r = await send(
    endpoint,
    from,
    {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization === undefined ? {} : { authorization }),
    },
    new URLSearchParams(params).toString(),
  );
  return { status: r.status, headers: r.headers, body: JSON.parse(r.body.toString('utf8')) };
}

interface Tokens {
  readonly access: string;
  readonly refresh: string;
}

function tokensOf(r: TokenReply): Tokens {
  expect(r.status).toBe(200);
  const { access_token: access, refresh_token: refresh } = r.body;
  expect(typeof access).toBe('string');
  expect(typeof refresh).toBe('string');
  return { access: access as string, refresh: refresh as string };
}

const clientCredentials = (from: string): Promise<TokenReply> =>
  oauth('/oauth/token', from, { grant_type: 'client_credentials' }, basic('svc', 'pw'));

/** `count` client-credentials exchanges with a wrong secret, each refused with 401. */
async function refusedOnTokenEndpoint(from: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await oauth(
      '/oauth/token',
      from,
      { grant_type: 'client_credentials' },
      // Another client name: five failures of `svc` would lock `svc` from every address too.
      basic(`guesser-${from}`, `wrong-${i}`),
    );
    expect(r.status).toBe(401);
  }
}

const refresh = (from: string, refreshToken: string): Promise<TokenReply> =>
  oauth(
    '/oauth/token',
    from,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    basic('svc', 'pw'),
  );

interface McpReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** `tools/call whoami` on /mcp with the given Authorization header. */
async function whoamiCall(from: string, authorization: string): Promise<McpReply> {
  const r = modernRequest('tools/call', { name: 'whoami', arguments: {} });
  const raw = await send(
    new URL(node.url).pathname,
    from,
    { ...r.headers, authorization },
    JSON.stringify(r.body),
  );
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  const read = await readMcpResponse(new Response(raw.body, { status: raw.status, headers }));
  return { status: raw.status, body: read.messages.at(-1) as Record<string, unknown> };
}

/** The principal id whoami reported; fails the test when the call was refused. */
function principalOf(r: McpReply): string {
  expect(r.status).toBe(200);
  return (JSON.parse(textOf(r.body['result'])) as { id: string }).id;
}

const errorCode = (r: McpReply): number | undefined =>
  (r.body['error'] as { code?: number } | undefined)?.code;

describe('token service on the embedded node', () => {
  it('issues a token pair for client_credentials with HTTP Basic, never cached', async () => {
    const from = freshAddress();
    const r = await clientCredentials(from);
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const { access } = tokensOf(r);
    expect(access.split('.')).toHaveLength(3);
  });

  it('accepts the access token as a Bearer credential on /mcp', async () => {
    const from = freshAddress();
    const { access } = tokensOf(await clientCredentials(from));
    expect(principalOf(await whoamiCall(from, bearer(access)))).toBe('basic:svc');
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const from = freshAddress();
    const r = await oauth(
      '/oauth/token',
      from,
      { grant_type: 'client_credentials' },
      basic('svc', 'wrong'),
    );
    expect(r.status).toBe(401);
    expect(r.body['error']).toBe('invalid_client');
    expect(r.headers['www-authenticate']).toMatch(/^Basic /);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).not.toHaveProperty('access_token');
  });

  it('rotates refresh tokens; reuse of an old one revokes the whole grant', async () => {
    const from = freshAddress();
    const first = tokensOf(await clientCredentials(from));
    const second = tokensOf(await refresh(from, first.refresh));
    expect(second.refresh).not.toBe(first.refresh);
    expect(second.access).not.toBe(first.access);
    expect(principalOf(await whoamiCall(from, bearer(second.access)))).toBe('basic:svc');

    // The rotated-out token is refused; presenting it is taken as theft.
    const reused = await refresh(from, first.refresh);
    expect(reused.status).toBe(400);
    expect(reused.body['error']).toBe('invalid_grant');

    // The family is gone: the newest access token and refresh token no longer work.
    const afterReuse = await whoamiCall(from, bearer(second.access));
    expect(afterReuse.status).toBe(401);
    expect(errorCode(afterReuse)).toBe(-32013);
    const refreshAgain = await refresh(from, second.refresh);
    expect(refreshAgain.status).toBe(400);
    expect(refreshAgain.body['error']).toBe('invalid_grant');
  });

  it('revokes an access token: /mcp refuses it, the grant survives', async () => {
    const from = freshAddress();
    const { access, refresh: refreshToken } = tokensOf(await clientCredentials(from));
    expect(principalOf(await whoamiCall(from, bearer(access)))).toBe('basic:svc');

    const revoked = await oauth('/oauth/revoke', from, { token: access }, basic('svc', 'pw'));
    expect(revoked.status).toBe(200);
    expect(revoked.headers['cache-control']).toBe('no-store');

    const refused = await whoamiCall(from, bearer(access));
    expect(refused.status).toBe(401);
    expect(errorCode(refused)).toBe(-32013);
    // Revoking one access token does not end its grant (only a refresh token's revocation does).
    const next = tokensOf(await refresh(from, refreshToken));
    expect(principalOf(await whoamiCall(from, bearer(next.access)))).toBe('basic:svc');
  });

  it('revokes the grant when its refresh token is revoked', async () => {
    const from = freshAddress();
    const { access, refresh: refreshToken } = tokensOf(await clientCredentials(from));
    const revoked = await oauth('/oauth/revoke', from, { token: refreshToken });
    expect(revoked.status).toBe(200);
    expect((await whoamiCall(from, bearer(access))).status).toBe(401);
    const r = await refresh(from, refreshToken);
    expect(r.status).toBe(400);
    expect(r.body['error']).toBe('invalid_grant');
  });

  it("issues tokens for an API key used as client secret, as the key's principal", async () => {
    const from = freshAddress();
    const r = await oauth('/oauth/token', from, {
      grant_type: 'client_credentials',
      client_id: 'ci',
      client_secret: ciKey,
    });
    const { access } = tokensOf(r);
    expect(principalOf(await whoamiCall(from, bearer(access)))).toBe('apikey:ci');
  });

  it(`locks an address out of /oauth/token after ${MAX_FAILURES} wrong secrets`, async () => {
    const from = freshAddress();
    await refusedOnTokenEndpoint(from, MAX_FAILURES);
    // Locked: even the right secret is not checked.
    const locked = await clientCredentials(from);
    expect(locked.status).toBe(429);
    expect(locked.body['error']).toBe('slow_down');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(locked.body).not.toHaveProperty('access_token');
    // Another address is unaffected.
    tokensOf(await clientCredentials(freshAddress()));
  });

  it('shares the per-address lockout between /mcp and /oauth/token', async () => {
    const from = freshAddress();
    const { access } = tokensOf(await clientCredentials(from));
    // Two refused credentials on /mcp ...
    for (let i = 0; i < 2; i++) {
      const r = await whoamiCall(from, basic(`guesser-${from}`, `wrong-${i}`));
      expect(r.status).toBe(401);
    }
    // ... and three on the token endpoint make five failures for this address.
    await refusedOnTokenEndpoint(from, MAX_FAILURES - 2);
    expect((await clientCredentials(from)).status).toBe(429);
    // /mcp refuses the address too, even with a valid token.
    const r = await whoamiCall(from, bearer(access));
    expect(r.status).toBe(429);
    // The token itself is fine from elsewhere.
    expect(principalOf(await whoamiCall(freshAddress(), bearer(access)))).toBe('basic:svc');
  });
});
