/**
 * The attack suite (issue 4): every attack is refused with its exact status and JSON-RPC
 * code and leaves no side effect — no tool ran (the fixture tools record every run) and no
 * session was stored. One definition, run against the embedded node and against a
 * two-gateway cluster (entry points `urls[0]` and `urls[1]`; the embedded node has one).
 */
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { DEFAULT_CLIENT_CAPABILITIES, eventually } from '@mcp-cluster/testkit';
import {
  LOCKOUT_FAILURES,
  PASSWORDS,
  SIGNER_SECRET,
  STATIC_TOKENS,
  TOKEN_SECRET,
  TOOL_BURST,
  MAX_STREAMS,
  READ_BURST,
  basic,
  bearer,
  freshAddress,
  initialize,
  legacy,
  mintJwt,
  modern,
  rpcError,
  rpcResult,
  send,
  signedBody,
  tamperedJwt,
  tokenRequest,
  unsignedJwt,
  openWebSocket,
  wsRequest,
  bearerSubprotocol,
} from './support.js';
import type { RawResponse, SuiteKeys } from './support.js';
import { traversalAttacks } from './attacks-traversal.js';
import {
  FORBIDDEN,
  RATE_LIMITED,
  UNAUTHORIZED,
  expectRefused,
  withoutSideEffects,
} from './target.js';
import type { AttackPart, AttackTarget } from './target.js';
import { lockoutAttacks } from './attacks-lockout.js';
import { messageAttacks } from './attacks-messages.js';
import { streamRevalidation } from './attacks-streams.js';
import { limitAttacks } from './attacks-limits.js';
import { namespaceAttacks } from './attacks-namespaces.js';

export type { AttackTarget } from './target.js';

/**
 * The parts of the suite kept in files of their own (each registers its attacks inside the
 * suite's describe, so they run against both deployments like the ones below).
 */
const PARTS: readonly AttackPart[] = [
  traversalAttacks,
  streamRevalidation,
  lockoutAttacks,
  messageAttacks,
  limitAttacks,
  namespaceAttacks,
];

export interface AttackSuiteOptions {
  /** Parts that only this deployment can run (e.g. the cluster's dispatch wire). */
  readonly parts?: readonly AttackPart[];
}

export function describeAttackSuite(
  name: string,
  setup: () => Promise<AttackTarget>,
  options: AttackSuiteOptions = {},
): void {
  describe(`attack suite: ${name}`, () => {
    let t: AttackTarget;
    const echo = { name: 'echo', arguments: { text: 'hi' } };
    beforeAll(async () => {
      t = await setup();
    });
    for (const part of [...PARTS, ...(options.parts ?? [])]) part(() => t);

    it('a valid token works on both entry points (control)', async () => {
      const token = await mintJwt(t.keys);
      for (const url of t.urls) {
        const r = await modern(url, 'tools/call', echo, bearer(token), { from: freshAddress() });
        expect(r.status).toBe(200);
        expect(rpcResult(r)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
      }
    });

    it('missing credentials: 401 with the RFC 9728 challenge, on every transport', async () => {
      await withoutSideEffects(t, async () => {
        const r = await modern(t.urls[1], 'tools/call', echo, {}, { from: freshAddress() });
        expectRefused(r, 401, UNAUTHORIZED);
        expect(r.headers['www-authenticate']).toMatch(
          /Bearer resource_metadata="https:\/\/mcp\.security\.test\/\.well-known\/oauth-protected-resource\/mcp"/,
        );
        const init = await initialize(t.urls[0], {}, freshAddress());
        expectRefused(init.response, 401, UNAUTHORIZED);
        expect(init.sessionId).toBeUndefined();
        const origin = new URL(t.urls[0]).origin;
        for (const path of ['/sse', '/ws']) {
          const g = await send(`${origin}${path}`, { method: 'GET', from: freshAddress() });
          expect(g.status).toBe(401);
        }
      });
    });

    it('serves the protected resource metadata without credentials', async () => {
      const origin = new URL(t.urls[1]).origin;
      for (const path of [
        '/.well-known/oauth-protected-resource',
        '/.well-known/oauth-protected-resource/mcp',
      ]) {
        const r = await send(`${origin}${path}`, { method: 'GET' });
        expect(r.status).toBe(200);
        expect(JSON.parse(r.text)).toMatchObject({
          resource: 'https://mcp.security.test/mcp',
          authorization_servers: ['https://issuer.security.test'],
        });
      }
    });

    const now = (): number => Math.floor(Date.now() / 1000);
    const badTokens: [string, (k: SuiteKeys) => Promise<string>][] = [
      ['expired', (k) => mintJwt(k, { expSec: now() - 3600 })],
      ['not yet valid', (k) => mintJwt(k, { nbfSec: now() + 3600 })],
      ['wrong audience', (k) => mintJwt(k, { aud: 'https://other.example/mcp' })],
      ['wrong issuer', (k) => mintJwt(k, { iss: 'https://evil.example' })],
      ['alg none', () => Promise.resolve(unsignedJwt())],
      ['re-signed with another key', (k) => mintJwt(k, { key: k.attackerKey, roles: ['admin'] })],
      ['tampered payload', async (k) => tamperedJwt(await mintJwt(k))],
    ];
    for (const [label, make] of badTokens) {
      it(`rejects a token that is ${label}: 401 invalid_token, nothing runs`, async () => {
        const token = await make(t.keys);
        await withoutSideEffects(t, async () => {
          for (const url of t.urls) {
            const r = await modern(url, 'tools/call', echo, bearer(token), {
              from: freshAddress(),
            });
            expectRefused(r, 401, UNAUTHORIZED);
            expect(r.headers['www-authenticate']).toContain('error="invalid_token"');
            const init = await initialize(url, bearer(token), freshAddress());
            expectRefused(init.response, 401, UNAUTHORIZED);
          }
        });
      });
    }

    it('an API key revoked through one entry point is refused at the other within a second', async () => {
      const { key, record } = await t.apiKeys.create({ principal: 'ci-bot', roles: ['reader'] });
      const from = freshAddress();
      const ok = await modern(t.urls[0], 'tools/call', echo, bearer(key), { from });
      expect(rpcResult(ok)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
      expect(await t.apiKeys.revoke(record.id)).toBe(true);
      const revokedAt = Date.now();
      // Polled with a side-effect-free request: a key is cached for at most a second.
      for (const url of [t.urls[1], t.urls[0]]) {
        await eventually(
          'the revoked key refused at every entry point',
          async () => {
            const r = await modern(url, 'tools/list', {}, { 'x-api-key': key }, { from });
            return r.status === 401 ? r : undefined;
          },
          { timeoutMs: 5_000 },
        );
      }
      // The provider caches a valid key for at most 1 s (default 500 ms): a generous bound.
      expect(Date.now() - revokedAt).toBeLessThan(3_000);
      await withoutSideEffects(t, async () => {
        for (const url of t.urls) {
          const r = await modern(url, 'tools/call', echo, { 'x-api-key': key }, { from });
          expectRefused(r, 401, UNAUTHORIZED);
        }
      });
    });

    it('token service: revoked and rotated-out tokens are refused at the other entry point', async () => {
      const from = freshAddress();
      const client = basic('bob', PASSWORDS.bob);
      const issued = await tokenRequest(
        t.urls[0],
        '/oauth/token',
        { grant_type: 'client_credentials' },
        client,
        from,
      );
      expect(issued.status).toBe(200);
      const access = String(issued.body['access_token']);
      const refresh = String(issued.body['refresh_token']);
      const ok = await modern(t.urls[1], 'tools/call', echo, bearer(access), { from });
      expect(rpcResult(ok)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
      // Rotation at g1; the old refresh token is spent everywhere.
      const rotated = await tokenRequest(
        t.urls[0],
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: refresh },
        {},
        from,
      );
      expect(rotated.status).toBe(200);
      const again = await tokenRequest(
        t.urls[1],
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: refresh },
        {},
        from,
      );
      expect({ status: again.status, error: again.body['error'] }).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      await withoutSideEffects(t, async () => {
        // Reuse revoked the whole family: the rotated access token is refused too, at g2.
        const reused = await modern(
          t.urls[1],
          'tools/call',
          echo,
          bearer(String(rotated.body['access_token'])),
          { from },
        );
        expectRefused(reused, 401, UNAUTHORIZED);
      });
      // A fresh grant, revoked at g2, refused at g1.
      const second = await tokenRequest(
        t.urls[1],
        '/oauth/token',
        { grant_type: 'client_credentials' },
        client,
        from,
      );
      const token = String(second.body['access_token']);
      expect((await tokenRequest(t.urls[1], '/oauth/revoke', { token }, {}, from)).status).toBe(
        200,
      );
      await withoutSideEffects(t, async () => {
        const revoked = await modern(t.urls[0], 'tools/call', echo, bearer(token), { from });
        expectRefused(revoked, 401, UNAUTHORIZED);
      });
    });

    it('locks out brute force per address and per user name, across entry points', async () => {
      const attacker = freshAddress();
      await withoutSideEffects(t, async () => {
        for (let i = 0; i < LOCKOUT_FAILURES; i++) {
          const r = await modern(
            t.urls[i % 2] ?? t.urls[0],
            'tools/call',
            echo,
            basic('alice', `guess-${i}`),
            {
              from: attacker,
            },
          );
          expect(r.status === 401 || r.status === 429).toBe(true);
        }
        // Now even the right password is refused, from the attacker's address ...
        const locked = await modern(
          t.urls[1],
          'tools/call',
          echo,
          basic('alice', PASSWORDS.alice),
          {
            from: attacker,
          },
        );
        expectRefused(locked, 429, RATE_LIMITED);
        expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
        // The address itself is locked: another user's right password, with the client
        // address spoofed in forwarding headers (no proxy is trusted), is refused too.
        const spoofed = await modern(
          t.urls[0],
          'tools/call',
          echo,
          {
            ...basic('bob', PASSWORDS.bob),
            'x-forwarded-for': '198.51.100.7',
            forwarded: 'for=198.51.100.7',
            'x-real-ip': '198.51.100.7',
          },
          { from: attacker },
        );
        expectRefused(spoofed, 429, RATE_LIMITED);
        // ... and alice's account from anywhere else.
        const elsewhere = await modern(
          t.urls[0],
          'tools/call',
          echo,
          basic('alice', PASSWORDS.alice),
          { from: freshAddress() },
        );
        expectRefused(elsewhere, 429, RATE_LIMITED);
      });
      // Another user from another address is unaffected.
      const bob = await modern(t.urls[0], 'tools/call', echo, basic('bob', PASSWORDS.bob), {
        from: freshAddress(),
      });
      expect(rpcResult(bob)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
    });

    it('request signing: unsigned, stale, tampered and replayed requests are refused', async () => {
      const key = { id: 'sk1', secret: SIGNER_SECRET };
      const auth = bearer(STATIC_TOKENS.signer);
      const from = freshAddress();
      const once = signedBody('tools/call', echo, key);
      const headers = { ...once.headers, ...auth };
      const first = await send(t.urls[0], { headers, body: once.body, from });
      expect(rpcResult(first)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
      await withoutSideEffects(t, async () => {
        const replay = await send(t.urls[1], { headers, body: once.body, from });
        expectRefused(replay, 401, UNAUTHORIZED);
        expect(rpcError(replay)?.message).toMatch(/nonce/i);
        const unsigned = await modern(t.urls[1], 'tools/call', echo, auth, { from });
        expectRefused(unsigned, 401, UNAUTHORIZED);
        const stale = await modern(t.urls[0], 'tools/call', echo, auth, {
          from,
          sign: key,
          signedAt: Date.now() - 3_600_000,
        });
        expectRefused(stale, 401, UNAUTHORIZED);
        const edited = await modern(t.urls[0], 'tools/call', echo, auth, {
          from,
          sign: key,
          tamper: (p) => ({ ...p, arguments: { text: 'rm -rf /' } }),
        });
        expectRefused(edited, 401, UNAUTHORIZED);
      });
    });

    it('a session id presented by another principal is 404 on every method', async () => {
      const owner = basic('bob', PASSWORDS.bob);
      const from = freshAddress();
      const { sessionId } = await initialize(t.urls[0], owner, from);
      expect(sessionId).toBeDefined();
      const sid = sessionId ?? '';
      const mallory = bearer(STATIC_TOKENS.mallory);
      await withoutSideEffects(t, async () => {
        for (const url of t.urls) {
          const post = await legacy(url, sid, 'tools/call', echo, mallory, from);
          expectRefused(post, 404, -32001);
          const get = await send(url, {
            method: 'GET',
            headers: { accept: 'text/event-stream', 'mcp-session-id': sid, ...mallory },
            from,
          });
          expectRefused(get, 404, -32001);
          const del = await send(url, {
            method: 'DELETE',
            headers: { 'mcp-session-id': sid, ...mallory },
            from,
          });
          expectRefused(del, 404, -32001);
        }
      });
      // The owner still has the session.
      const own = await legacy(t.urls[1], sid, 'tools/call', echo, owner, from);
      expect(rpcResult(own)?.['content']).toEqual([{ type: 'text', text: 'hi' }]);
    });

    it('a tool tools/list hides cannot be called (403 insufficient_scope / in-band -32014)', async () => {
      const token = await mintJwt(t.keys, { sub: 'reader-jwt', roles: ['reader'] });
      const from = freshAddress();
      const list = await modern(t.urls[0], 'tools/list', {}, bearer(token), { from });
      const tools = (rpcResult(list)?.['tools'] ?? []) as { name: string }[];
      const names = tools.map((x) => x.name);
      expect(names).toContain('echo');
      expect(names).not.toContain('delete_db');
      const admin = await modern(t.urls[0], 'tools/list', {}, bearer(STATIC_TOKENS.admin), {
        from,
      });
      expect(JSON.stringify(rpcResult(admin))).toContain('delete_db');
      const { sessionId } = await initialize(t.urls[1], basic('bob', PASSWORDS.bob), from);
      await withoutSideEffects(t, async () => {
        const call = { name: 'delete_db', arguments: {} };
        const r = await modern(t.urls[1], 'tools/call', call, bearer(token), { from });
        expectRefused(r, 403, FORBIDDEN);
        expect(r.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
        const inBand = await legacy(
          t.urls[0],
          sessionId ?? '',
          'tools/call',
          call,
          basic('bob', PASSWORDS.bob),
          from,
        );
        expectRefused(inBand, 200, FORBIDDEN);
      });
      // Each denial left its audit line (written before the answer left the process).
      expect(t.audit()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            audit: true,
            event: 'forbidden',
            principal: 'jwt:https://issuer.security.test#reader-jwt',
            method: 'tools/call',
            permission: 'tools:call:delete_db',
            remoteAddress: from,
          }),
          expect.objectContaining({
            event: 'forbidden',
            principal: 'basic:bob',
            permission: 'tools:call:delete_db',
          }),
        ]),
      );
    });

    it('a resource outside the permitted patterns is neither listed nor readable', async () => {
      const auth = basic('bob', PASSWORDS.bob);
      const from = freshAddress();
      const list = await modern(t.urls[0], 'resources/list', {}, auth, { from });
      const uris = ((rpcResult(list)?.['resources'] ?? []) as { uri: string }[]).map((x) => x.uri);
      expect(uris).toEqual(['docs://public/readme']);
      const ok = await modern(t.urls[1], 'resources/read', { uri: 'docs://public/readme' }, auth, {
        from,
      });
      expect(ok.status).toBe(200);
      await withoutSideEffects(t, async () => {
        for (const uri of ['docs://secret/keys', 'docs://secret/x/../keys']) {
          const r = await modern(t.urls[1], 'resources/read', { uri }, auth, { from });
          expectRefused(r, 403, FORBIDDEN);
        }
        // A `..` that climbs into the authority has no canonical form at all.
        const up = await modern(
          t.urls[1],
          'resources/read',
          { uri: 'docs://public/../secret/keys' },
          auth,
          { from },
        );
        expectRefused(up, 400, -32602);
      });
    });

    it('a listen stream cannot subscribe to updates of a resource it may not read', async () => {
      const auth = basic('bob', PASSWORDS.bob);
      await withoutSideEffects(t, async () => {
        const r = await modern(
          t.urls[1],
          'subscriptions/listen',
          { notifications: { resourceSubscriptions: ['docs://secret/keys'] } },
          auth,
          { from: freshAddress() },
        );
        // The listen stream is already SSE when the check answers: the error ends it.
        expect(rpcError(r)?.code).toBe(FORBIDDEN);
      });
    });

    it('a burst across both entry points is held to the shared per-tool limit', async () => {
      const auth = bearer(STATIC_TOKENS.burst);
      const from = freshAddress();
      const before = t.sideEffects().filter((l) => l.startsWith('echo:static:burst:')).length;
      const attempts = TOOL_BURST + 6;
      const results = await Promise.all(
        Array.from({ length: attempts }, (_, i) =>
          modern(t.urls[i % 2] ?? t.urls[0], 'tools/call', echo, auth, { from }),
        ),
      );
      const admitted = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      expect(admitted.length).toBe(TOOL_BURST);
      expect(refused.length).toBe(attempts - TOOL_BURST);
      for (const r of refused) {
        expect(rpcError(r)?.code).toBe(RATE_LIMITED);
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      const ran = t.sideEffects().filter((l) => l.startsWith('echo:static:burst:')).length - before;
      expect(ran).toBe(TOOL_BURST);
    });

    it('a rate policy on reads holds across both entry points, for the principals it names only', async () => {
      const auth = bearer(STATIC_TOKENS.burst);
      const from = freshAddress();
      const read = (i: number, uri = 'docs://public/readme') =>
        modern(t.urls[i % 2] ?? t.urls[0], 'resources/read', { uri }, auth, { from });
      const results = await Promise.all(Array.from({ length: READ_BURST + 3 }, (_, i) => read(i)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(READ_BURST);
      const refused = results.filter((r) => r.status === 429);
      expect(refused).toHaveLength(3);
      for (const r of refused) {
        expect(rpcError(r)?.code).toBe(RATE_LIMITED);
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      // The policy is scoped to `burst`: another reader of the same document is not limited.
      const bob = await modern(
        t.urls[0],
        'resources/read',
        { uri: 'docs://public/readme' },
        basic('bob', PASSWORDS.bob),
        { from },
      );
      expect(bob.status).toBe(200);
      expect(t.audit()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            event: 'rate_limited',
            principal: 'static:burst',
            reason: 'policy public-docs',
          }),
        ]),
      );
    });

    it('oversize bodies, overlong strings, deep nesting and malformed UTF-8 are refused', async () => {
      const auth = bearer(STATIC_TOKENS.admin);
      const headers = { 'content-type': 'application/json', accept: 'application/json', ...auth };
      await withoutSideEffects(t, async () => {
        const big = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'ping',
          params: { pad: 'x'.repeat(5 * 1024 * 1024) },
        });
        expectRefused(
          await send(t.urls[0], { headers, body: big, from: freshAddress() }),
          413,
          -32015,
        );
        const long = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'ping',
          params: { pad: 'x'.repeat(2 * 1024 * 1024) },
        });
        expectRefused(
          await send(t.urls[1], { headers, body: long, from: freshAddress() }),
          400,
          -32600,
        );
        const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
        expectRefused(
          await send(t.urls[1], { headers, body: deep, from: freshAddress() }),
          400,
          -32600,
        );
        const utf8 = Buffer.concat([
          Buffer.from('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"'),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from('"}}'),
        ]);
        expectRefused(
          await send(t.urls[0], { headers, body: utf8, from: freshAddress() }),
          400,
          -32700,
        );
        // Unauthenticated: refused before the body is read at all.
        const anon = { 'content-type': 'application/json' };
        expectRefused(
          await send(t.urls[1], { headers: anon, body: big, from: freshAddress() }),
          401,
          UNAUTHORIZED,
        );
      });
    });

    it('CRLF and oversize headers are refused by the HTTP layer', async () => {
      const { hostname, port, pathname } = new URL(t.urls[0]);
      const raw = (head: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const socket = connect({
            host: hostname,
            port: Number(port),
            localAddress: freshAddress(),
          });
          let data = '';
          socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
          socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
          socket.on('close', () => resolve(data));
          socket.on('error', reject);
          socket.write(head);
        });
      await withoutSideEffects(t, async () => {
        const injected = await raw(
          `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${STATIC_TOKENS.admin}\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n`,
        );
        expect(injected).toMatch(/^HTTP\/1\.1 400/);
        const bareLf = await raw(
          `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\nX-B: b\r\nContent-Length: 0\r\n\r\n`,
        );
        expect(bareLf).toMatch(/^HTTP\/1\.1 400/);
        const huge = await raw(
          `GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
        );
        expect(huge).toMatch(/^HTTP\/1\.1 431/);
      });
    });

    it('a tampered or foreign requestState is -32602 and runs nothing', async () => {
      const auth = bearer(STATIC_TOKENS.admin);
      const from = freshAddress();
      const call = { name: 'confirm_action', arguments: {} };
      const first = await modern(t.urls[0], 'tools/call', call, auth, { from });
      const ir = rpcResult(first) ?? {};
      expect(ir['resultType']).toBe('input_required');
      const key = Object.keys(ir['inputRequests'] ?? {})[0] ?? '';
      const answers = { [key]: { action: 'accept', content: { ok: true } } };
      const state = String(ir['requestState']);
      await withoutSideEffects(t, async () => {
        const tampered = `${state.slice(0, -4)}AAAA`;
        const r = await modern(
          t.urls[1],
          'tools/call',
          { ...call, inputResponses: answers, requestState: tampered },
          auth,
          { from },
        );
        expectRefused(r, 400, -32602);
        // Bound to its principal: another caller cannot finish admin's request.
        const foreign = await modern(
          t.urls[1],
          'tools/call',
          { ...call, inputResponses: answers, requestState: state },
          bearer(await mintJwt(t.keys, { sub: 'other', roles: ['reader'] })),
          { from },
        );
        expectRefused(foreign, 400, -32602);
      });
      const done = await modern(
        t.urls[1],
        'tools/call',
        { ...call, inputResponses: answers, requestState: state },
        auth,
        { from },
      );
      expect(rpcResult(done)?.['content']).toEqual([{ type: 'text', text: 'confirmed' }]);
    });

    it("another principal's task does not exist for mallory: get and cancel find nothing", async () => {
      const withTasks = {
        ...DEFAULT_CLIENT_CAPABILITIES,
        extensions: { 'io.modelcontextprotocol/tasks': {} },
      };
      const admin = bearer(STATIC_TOKENS.admin);
      const mallory = bearer(STATIC_TOKENS.mallory);
      const from = freshAddress();
      const task = (r: RawResponse) => rpcResult(r) ?? {};
      const created = await modern(
        t.urls[0],
        'tools/call',
        { name: 'long_job', arguments: {} },
        admin,
        { from, capabilities: withTasks },
      );
      expect(task(created)).toMatchObject({ resultType: 'task', status: 'working' });
      const taskId = String(task(created)['taskId']);
      const opts = { from, capabilities: withTasks };
      await withoutSideEffects(t, async () => {
        for (const method of ['tasks/get', 'tasks/cancel']) {
          const r = await modern(t.urls[1], method, { taskId }, mallory, opts);
          expect(rpcError(r)).toMatchObject({ code: -32602, message: 'Task not found' });
        }
      });
      // Still the owner's, still running: mallory's cancel did nothing.
      const mine = await modern(t.urls[1], 'tasks/get', { taskId }, admin, opts);
      expect(task(mine)).toMatchObject({ taskId, status: 'working' });
      const cancelled = await modern(t.urls[0], 'tasks/cancel', { taskId }, admin, opts);
      expect(rpcError(cancelled)).toBeUndefined();
      await eventually('the owner cancelled the task', () =>
        t.sideEffects().includes('long_job:static:admin:cancelled') ? true : undefined,
      );
    });

    it("a browser's WebSocket authenticates with a bearer subprotocol; a bad one is refused", async () => {
      const from = freshAddress();
      const effects = t.sideEffects().length;
      await withoutSideEffects(t, async () => {
        // No credential at all, or a wrong one in the subprotocol: refused at the upgrade.
        expect(await openWebSocket(t.urls[0], ['mcp'], from)).toEqual({ open: false, status: 401 });
        const wrong = bearerSubprotocol('not-a-token-of-this-server-0123456789');
        expect(await openWebSocket(t.urls[1], ['mcp', wrong], from)).toEqual({
          open: false,
          status: 401,
        });
      });
      // A valid reader token over the subprotocol opens a session (the connection), and
      // still cannot call what it may not.
      const reader = await mintJwt(t.keys, { sub: 'ws-reader', roles: ['reader'] });
      const ws = await openWebSocket(t.urls[0], ['mcp', bearerSubprotocol(reader)], from);
      if (!ws.open) throw new Error(`upgrade refused: ${ws.status}`);
      try {
        // The server selects `mcp`: the credential is never echoed back.
        expect(ws.protocol).toBe('mcp');
        const init = await wsRequest(ws.socket, {
          id: 'init',
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'browser', version: '1' },
          },
        });
        expect(init['result']).toBeDefined();
        const denied = await wsRequest(ws.socket, {
          id: 'call',
          method: 'tools/call',
          params: { name: 'delete_db', arguments: {} },
        });
        expect((denied['error'] as { code?: number } | undefined)?.code).toBe(FORBIDDEN);
        expect(t.sideEffects().length).toBe(effects);
      } finally {
        ws.socket.close();
      }
    });

    it('a principal holds at most MAX_STREAMS streams across both entry points', async () => {
      const token = await mintJwt(t.keys, { sub: 'streamer', roles: ['reader'] });
      const protocols = ['mcp', bearerSubprotocol(token)];
      const from = freshAddress();
      const open: WebSocket[] = [];
      try {
        for (let i = 0; i < MAX_STREAMS; i++) {
          const ws = await openWebSocket(t.urls[i % 2] ?? t.urls[0], protocols, from);
          if (!ws.open) throw new Error(`stream ${i} refused: ${ws.status}`);
          open.push(ws.socket);
        }
        // One more, at either entry point: refused before the upgrade.
        for (const url of t.urls) {
          expect(await openWebSocket(url, protocols, from)).toEqual({ open: false, status: 429 });
        }
        // Another principal is not affected.
        const other = await openWebSocket(
          t.urls[1],
          ['mcp', bearerSubprotocol(STATIC_TOKENS.mallory)],
          from,
        );
        if (other.open) other.socket.close();
        expect(other.open).toBe(true);
        // Closing one frees its slot (the release reaches the shared count shortly after).
        open.shift()?.close();
        const again = await eventually('a freed stream slot', async () => {
          const ws = await openWebSocket(t.urls[1], protocols, from);
          return ws.open ? ws.socket : undefined;
        });
        open.push(again);
      } finally {
        for (const socket of open) socket.close();
      }
    });

    it('the audit trail records refusals of every kind and never a credential', () => {
      // Runs after the attacks above (vitest keeps declaration order within a file).
      const entries = t.audit();
      const events = new Set(entries.map((e) => e['event']));
      for (const event of ['unauthenticated', 'locked_out', 'rate_limited', 'forbidden']) {
        expect(events).toContain(event);
      }
      for (const entry of entries) {
        expect(entry).toMatchObject({ audit: true, time: expect.any(String) as string });
      }
      const text = JSON.stringify(entries);
      const secrets = [
        ...Object.values(STATIC_TOKENS),
        ...Object.values(PASSWORDS),
        TOKEN_SECRET,
        SIGNER_SECRET,
      ];
      for (const secret of secrets) expect(text).not.toContain(secret);
      // No bearer value, JWT or Basic credential either.
      expect(text).not.toMatch(/Bearer |Basic |eyJ[A-Za-z0-9_-]{10,}/);
    });

    it('a bad Origin is 403 before credentials are looked at', async () => {
      await withoutSideEffects(t, async () => {
        const r = await modern(
          t.urls[0],
          'tools/call',
          echo,
          { ...bearer(STATIC_TOKENS.admin), origin: 'https://evil.example' },
          { from: freshAddress() },
        );
        expectRefused(r, 403, FORBIDDEN);
      });
    });
  });
}
