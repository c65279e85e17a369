/**
 * Principal ids are namespaced by provider: a JWT whose `sub` is the bare name of a static
 * token principal (`mallory`, `admin`), an API key issued to that name, or a JWT whose `sub`
 * spells the other principal's namespaced id (`static:mallory`) is another principal. It
 * cannot use the static principal's legacy session, see or cancel its tasks, or spend from
 * (or be limited by) its per-tool bucket; tools and the audit trail see the namespaced ids
 * (`static:mallory`, `jwt:<issuer>#mallory`, `basic:bob`, `apikey:<name>`).
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { DEFAULT_CLIENT_CAPABILITIES, eventually } from '@mcp-cluster/testkit';
import {
  ISSUER,
  PASSWORDS,
  STATIC_TOKENS,
  TOOL_BURST,
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
  tokenRequest,
} from './support.js';
import type { RawResponse } from './support.js';
import { FORBIDDEN, RATE_LIMITED, expectRefused, withoutSideEffects } from './target.js';
import type { AttackPart, AttackTarget } from './target.js';

const SESSION_NOT_FOUND = -32001;
const jwtId = (sub: string): string => `jwt:${ISSUER}#${sub}`;
const tag = (): string => `ns-${randomBytes(4).toString('hex')}`;
const echo = (text: string) => ({ name: 'echo', arguments: { text } });

/** Credentials of principals that share a bare name with `name` (but are someone else). */
async function impostorsOf(
  t: AttackTarget,
  name: string,
  roles: readonly string[],
): Promise<[string, Record<string, string>][]> {
  const { key } = await t.apiKeys.create({ principal: name, roles: [...roles] });
  return [
    [`jwt sub ${name}`, bearer(await mintJwt(t.keys, { sub: name, roles }))],
    [`jwt sub static:${name}`, bearer(await mintJwt(t.keys, { sub: `static:${name}`, roles }))],
    [`api key of ${name}`, { 'x-api-key': key }],
  ];
}

/** Every method on a legacy session, presented by `auth`: 404 / -32001 each. */
async function expectSessionUnknown(
  t: AttackTarget,
  sid: string,
  auth: Record<string, string>,
  from: string,
  label: string,
): Promise<void> {
  for (const url of t.urls) {
    const post = await legacy(url, sid, 'tools/call', echo('stolen'), auth, from);
    const get = await send(url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, ...auth },
      from,
    });
    const del = await send(url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sid, ...auth },
      from,
    });
    for (const [what, r] of [
      ['POST', post],
      ['GET', get],
      ['DELETE', del],
    ] as const) {
      expect({ label, what, status: r.status, code: rpcError(r)?.code }).toEqual({
        label,
        what,
        status: 404,
        code: SESSION_NOT_FOUND,
      });
    }
  }
}

const withTasks = {
  ...DEFAULT_CLIENT_CAPABILITIES,
  extensions: { 'io.modelcontextprotocol/tasks': {} },
};
const taskOf = (r: RawResponse): Record<string, unknown> => rpcResult(r) ?? {};

export const namespaceAttacks: AttackPart = (target) => {
  it('a JWT or API key named like a static principal cannot use its legacy session', async () => {
    const t = target();
    const from = freshAddress();
    const owner = bearer(STATIC_TOKENS.mallory);
    const { sessionId } = await initialize(t.urls[0], owner, from);
    if (sessionId === undefined) throw new Error('no session for mallory');
    const impostors = await impostorsOf(t, 'mallory', ['reader']);
    await withoutSideEffects(t, async () => {
      for (const [label, auth] of impostors) {
        await expectSessionUnknown(t, sessionId, auth, from, label);
      }
    });
    // The other way round: Basic user bob cannot use the session of a JWT with sub `bob`.
    const jwtBob = bearer(await mintJwt(t.keys, { sub: 'bob' }));
    const bobs = await initialize(t.urls[1], jwtBob, from);
    if (bobs.sessionId === undefined) throw new Error('no session for the JWT bob');
    await withoutSideEffects(t, () =>
      expectSessionUnknown(t, bobs.sessionId ?? '', basic('bob', PASSWORDS.bob), from, 'basic bob'),
    );
    // Each owner still has its session.
    const text = tag();
    const own = await legacy(t.urls[1], sessionId, 'tools/call', echo(text), owner, from);
    expect(rpcResult(own)?.['content']).toEqual([{ type: 'text', text }]);
    const jwtOwn = await legacy(t.urls[0], bobs.sessionId, 'tools/call', echo(text), jwtBob, from);
    expect(rpcResult(jwtOwn)?.['content']).toEqual([{ type: 'text', text }]);
    expect(t.sideEffects().filter((l) => l.endsWith(`:${text}`))).toEqual([
      `echo:static:mallory:${text}`,
      `echo:${jwtId('bob')}:${text}`,
    ]);
  });

  it('a JWT or API key named like a static principal neither sees nor cancels its task', async () => {
    const t = target();
    const from = freshAddress();
    const opts = { from, capabilities: withTasks };
    const job = { name: 'long_job', arguments: {} };
    const admin = bearer(STATIC_TOKENS.admin);
    const created = await modern(t.urls[0], 'tools/call', job, admin, opts);
    expect(taskOf(created)).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = String(taskOf(created)['taskId']);
    const impostors = await impostorsOf(t, 'admin', ['admin']);
    await withoutSideEffects(t, async () => {
      for (const [label, auth] of impostors) {
        for (const [i, method] of ['tasks/get', 'tasks/cancel'].entries()) {
          const r = await modern(t.urls[i % 2] ?? t.urls[0], method, { taskId }, auth, opts);
          expect({ label, method, error: rpcError(r) }).toMatchObject({
            label,
            method,
            error: { code: -32602, message: 'Task not found' },
          });
        }
      }
    });
    // The other way round: the static admin does not see the task of a JWT with sub `admin`.
    const jwtAdmin = bearer(await mintJwt(t.keys, { sub: 'admin', roles: ['admin'] }));
    const theirs = await modern(t.urls[1], 'tools/call', job, jwtAdmin, opts);
    const theirId = String(taskOf(theirs)['taskId']);
    await withoutSideEffects(t, async () => {
      for (const method of ['tasks/get', 'tasks/cancel']) {
        const r = await modern(t.urls[0], method, { taskId: theirId }, admin, opts);
        expect(rpcError(r)).toMatchObject({ code: -32602, message: 'Task not found' });
      }
    });
    // Both still running, each its owner's to cancel; the tool saw the namespaced ids.
    for (const [id, auth, expected] of [
      [taskId, admin, 'long_job:static:admin:cancelled'],
      [theirId, jwtAdmin, `long_job:${jwtId('admin')}:cancelled`],
    ] as const) {
      const mine = await modern(t.urls[1], 'tasks/get', { taskId: id }, auth, opts);
      expect(taskOf(mine)).toMatchObject({ taskId: id, status: 'working' });
      const cancelled = await modern(t.urls[0], 'tasks/cancel', { taskId: id }, auth, opts);
      expect(rpcError(cancelled)).toBeUndefined();
      await eventually(`the owner cancelled ${expected}`, () =>
        t.sideEffects().includes(expected) ? true : undefined,
      );
    }
  });

  it('a JWT named like a static principal spends a per-tool bucket of its own', async () => {
    const t = target();
    const from = freshAddress();
    const text = tag();
    const jwt = bearer(await mintJwt(t.keys, { sub: 'mallory' }));
    // The JWT spends its whole echo bucket (across both entry points) ...
    const attempts = TOOL_BURST + 2;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        modern(t.urls[i % 2] ?? t.urls[0], 'tools/call', echo(text), jwt, { from }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(TOOL_BURST);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(attempts - TOOL_BURST);
    for (const r of refused) expect(rpcError(r)?.code).toBe(RATE_LIMITED);
    // ... and the static principal `mallory` still has all of its own.
    const own = await modern(t.urls[1], 'tools/call', echo(text), bearer(STATIC_TOKENS.mallory), {
      from,
    });
    expect(rpcResult(own)?.['content']).toEqual([{ type: 'text', text }]);
    const lines = t.sideEffects().filter((l) => l.endsWith(`:${text}`));
    expect(lines.filter((l) => l === `echo:${jwtId('mallory')}:${text}`)).toHaveLength(TOOL_BURST);
    expect(lines.filter((l) => l === `echo:static:mallory:${text}`)).toHaveLength(1);
    expect(lines).toHaveLength(TOOL_BURST + 1);
    expect(t.audit()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: 'rate_limited',
          principal: jwtId('mallory'),
          reason: 'tool echo',
          remoteAddress: from,
        }),
      ]),
    );
  });

  it('tools and the audit trail see principal ids namespaced by provider', async () => {
    const t = target();
    const from = freshAddress();
    const text = tag();
    const { key } = await t.apiKeys.create({ principal: 'mallory', roles: ['reader'] });
    const issued = await tokenRequest(
      t.urls[0],
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basic('bob', PASSWORDS.bob),
      from,
    );
    expect(issued.status).toBe(200);
    // (The JWT with sub `mallory` spent its echo bucket above: it is only denied below.)
    const callers: [Record<string, string>, string][] = [
      [bearer(STATIC_TOKENS.mallory), 'static:mallory'],
      [bearer(await mintJwt(t.keys, { sub: 'static:mallory' })), jwtId('static:mallory')],
      [{ 'x-api-key': key }, 'apikey:mallory'],
      [basic('bob', PASSWORDS.bob), 'basic:bob'],
      // The token service's own tokens carry the id of the principal they were issued to.
      [bearer(String(issued.body['access_token'])), 'basic:bob'],
    ];
    for (const [i, [auth]] of callers.entries()) {
      const r = await modern(t.urls[i % 2] ?? t.urls[0], 'tools/call', echo(text), auth, { from });
      expect(rpcResult(r)?.['content']).toEqual([{ type: 'text', text }]);
    }
    expect(t.sideEffects().filter((l) => l.endsWith(`:${text}`))).toEqual(
      callers.map(([, id]) => `echo:${id}:${text}`),
    );
    // Denials are audited under the namespaced id of whoever was denied.
    const denials: [Record<string, string>, string][] = [
      ...callers,
      [bearer(await mintJwt(t.keys, { sub: 'mallory' })), jwtId('mallory')],
    ];
    await withoutSideEffects(t, async () => {
      for (const [i, [auth]] of denials.entries()) {
        const r = await modern(
          t.urls[(i + 1) % 2] ?? t.urls[0],
          'tools/call',
          { name: 'delete_db', arguments: {} },
          auth,
          { from },
        );
        expectRefused(r, 403, FORBIDDEN);
      }
    });
    const denied = t
      .audit()
      .filter(
        (e) =>
          e['event'] === 'forbidden' &&
          e['remoteAddress'] === from &&
          e['permission'] === 'tools:call:delete_db',
      )
      .map((e) => e['principal']);
    expect(denied.sort()).toEqual(denials.map(([, id]) => id).sort());
  });
};
