/**
 * Resource permissions see what the handler sees: every spelling of a path out of
 * `files://public/**` (encoded separators, encoded dots, dot segments that climb, dots in a
 * query a template decodes, double encoding) is refused before the fixture's naive
 * file-style template can normalize it into `secret/key`; subscriptions, listen streams and
 * completion get the same canonical form. The reader (`mallory`) may read
 * `files://public/**` and complete the template, nothing else of it.
 */
import { expect, it } from 'vitest';
import { modernRequest } from '@mcp-cluster/testkit';
import {
  STATIC_TOKENS,
  bearer,
  bearerSubprotocol,
  freshAddress,
  initialize,
  legacy,
  modern,
  openWebSocket,
  rpcError,
  rpcResult,
  wsRequest,
} from './support.js';
import type { RawResponse } from './support.js';
import { FORBIDDEN, INVALID_PARAMS, expectRefused, withoutSideEffects } from './target.js';
import type { AttackPart } from './target.js';

const reader = bearer(STATIC_TOKENS.mallory);
const SECRET = 'the secret key';

/** Ways out of `files://public/` towards `secret/key`, and the refusal each must get. */
const ESCAPES: readonly string[] = [
  'files://public/..%2Fsecret%2Fkey',
  'files://public/%2E%2E%2Fsecret%2Fkey',
  'files://public/.%2E%2fsecret%2fkey',
  'files://public/x/..%2F..%2Fsecret%2Fkey',
  'files://public/docs/..%2F..%2Fsecret%2Fkey',
  'files://public/..%5Csecret%5Ckey',
  'files://public/../secret/key',
  'files://public/%2e%2e/secret/key',
  'files://public/.%2E/secret/key',
  'files://public/docs/../../secret/key',
  'files://public/docs/%2E%2E/%2e%2e/secret/key',
  'files://public/%252e%252e/secret/key',
  'files://public/%252E%252E%252Fsecret%252Fkey',
  'files://public/x?/../../secret/key',
  'files://public/x#/../../secret/key',
  'files://public/%00/../secret/key',
];

function expectNoSecret(r: RawResponse | Record<string, unknown>): void {
  expect(JSON.stringify('text' in r ? r.text : r)).not.toContain(SECRET);
}

export const traversalAttacks: AttackPart = (target) => {
  it('a reader reads files://public/** (control)', async () => {
    const t = target();
    const from = freshAddress();
    for (const [uri, text] of [
      ['files://public/readme', 'public readme'],
      ['files://public/docs/guide', 'public guide'],
      // Dot segments that stay inside resolve to the file they name.
      ['files://public/docs/../readme', 'public readme'],
      ['files://public/%64ocs/./guide', 'public guide'],
    ] as const) {
      const r = await modern(t.urls[1], 'resources/read', { uri }, reader, { from });
      expect({ uri, contents: rpcResult(r)?.['contents'] }).toEqual({
        uri,
        contents: [expect.objectContaining({ text })],
      });
    }
  });

  it('encoded and dotted paths out of the permitted pattern read nothing (modern wire)', async () => {
    const t = target();
    const from = freshAddress();
    await withoutSideEffects(t, async () => {
      for (const [i, uri] of ESCAPES.entries()) {
        const r = await modern(t.urls[i % 2] ?? t.urls[0], 'resources/read', { uri }, reader, {
          from,
        });
        expectNoSecret(r);
        expect({ uri, status: r.status, code: rpcError(r)?.code }).toEqual({
          uri,
          status: 400,
          code: INVALID_PARAMS,
        });
        expect(rpcError(r)?.message).toMatch(/^Invalid resource uri: /);
      }
      // Spelled differently, the secret is still the secret: forbidden.
      for (const uri of ['files://secret/key', 'files://secret/%6Bey', 'files://%73ecret/key']) {
        const r = await modern(t.urls[0], 'resources/read', { uri }, reader, { from });
        expectNoSecret(r);
        expectRefused(r, 403, FORBIDDEN);
      }
    });
  });

  it('the same escapes on a legacy session and a WebSocket read nothing and subscribe to nothing', async () => {
    const t = target();
    const from = freshAddress();
    const { sessionId } = await initialize(t.urls[0], reader, from);
    if (sessionId === undefined) throw new Error('no session');
    const ws = await openWebSocket(
      t.urls[1],
      ['mcp', bearerSubprotocol(STATIC_TOKENS.mallory)],
      from,
    );
    if (!ws.open) throw new Error(`WebSocket refused: ${ws.status}`);
    try {
      await withoutSideEffects(t, async () => {
        for (const [i, uri] of ESCAPES.entries()) {
          const read = await legacy(
            t.urls[i % 2] ?? t.urls[0],
            sessionId,
            'resources/read',
            { uri },
            reader,
            from,
          );
          expectNoSecret(read);
          expect({ uri, code: rpcError(read)?.code }).toEqual({ uri, code: INVALID_PARAMS });
          const { body } = modernRequest('resources/read', { uri }, { id: `ws-${i}` });
          const frame = await wsRequest(ws.socket, body as { id: string });
          expectNoSecret(frame);
          expect({ uri, error: frame['error'] }).toEqual({
            uri,
            error: expect.objectContaining({ code: INVALID_PARAMS }) as unknown,
          });
        }
        // Subscriptions take the canonical form: a climbing uri has none.
        for (const uri of ['files://public/../secret/key', 'files://public/x/%2E%2E/%2E%2E/a']) {
          const sub = await legacy(
            t.urls[1],
            sessionId,
            'resources/subscribe',
            { uri },
            reader,
            from,
          );
          expect({ uri, code: rpcError(sub)?.code }).toEqual({ uri, code: INVALID_PARAMS });
        }
        const secret = await legacy(
          t.urls[0],
          sessionId,
          'resources/subscribe',
          { uri: 'files://public/docs/../../secret/key' },
          reader,
          from,
        );
        expect(rpcError(secret)?.code).toBe(INVALID_PARAMS);
        const spelled = await legacy(
          t.urls[0],
          sessionId,
          'resources/subscribe',
          { uri: 'files://secret/%6Bey' },
          reader,
          from,
        );
        expect(rpcError(spelled)?.code).toBe(FORBIDDEN);
      });
    } finally {
      ws.socket.close();
    }
  });

  it('a listen stream cannot subscribe through an escape either', async () => {
    const t = target();
    const from = freshAddress();
    await withoutSideEffects(t, async () => {
      for (const [uri, code] of [
        ['files://public/../secret/key', INVALID_PARAMS],
        ['files://public/%2E%2E/secret/key', INVALID_PARAMS],
        ['files://secret/%6Bey', FORBIDDEN],
      ] as const) {
        const r = await modern(
          t.urls[1],
          'subscriptions/listen',
          { notifications: { resourceSubscriptions: ['files://public/readme', uri] } },
          reader,
          { from },
        );
        expect({ uri, code: rpcError(r)?.code }).toEqual({ uri, code });
      }
    });
  });

  it('completion of a path never lists outside what the template may name', async () => {
    const t = target();
    const from = freshAddress();
    const complete = (value: string, context?: Record<string, string>) =>
      modern(
        t.urls[0],
        'completion/complete',
        {
          ref: { type: 'ref/resource', uri: 'files://{+path}' },
          argument: { name: 'path', value },
          ...(context === undefined ? {} : { context: { arguments: context } }),
        },
        reader,
        { from },
      );
    const ok = await complete('public/');
    expect(rpcResult(ok)?.['completion']).toMatchObject({
      values: ['public/readme', 'public/docs/guide'],
    });
    await withoutSideEffects(t, async () => {
      for (const value of ['public/../secret/', '..', 'public/./../secret', 'x\\..\\secret']) {
        const r = await complete(value);
        expectNoSecret(r);
        expect({ value, code: rpcError(r)?.code }).toEqual({ value, code: INVALID_PARAMS });
      }
      const viaContext = await complete('public/', { path: '../secret' });
      expect(rpcError(viaContext)?.code).toBe(INVALID_PARAMS);
    });
  });

  it('a template that allows encoded separators still never gets a dot segment', async () => {
    const t = target();
    const from = freshAddress();
    const ok = await modern(t.urls[1], 'resources/read', { uri: 'repo://owner%2Fname' }, reader, {
      from,
    });
    expect(rpcResult(ok)?.['contents']).toEqual([
      expect.objectContaining({ text: 'repository owner/name' }),
    ]);
    await withoutSideEffects(t, async () => {
      for (const uri of ['repo://..%2F..%2Fsecret', 'repo://%2E%2E', 'repo://a%2F.%2Fb']) {
        const r = await modern(t.urls[0], 'resources/read', { uri }, reader, { from });
        expect({ uri, code: rpcError(r)?.code }).toEqual({ uri, code: INVALID_PARAMS });
      }
    });
  });
};
