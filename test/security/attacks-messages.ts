/**
 * Per-message accounting (issue 9, item 2): every JSON-RPC message spends one token of its
 * principal's bucket, whatever carries it — a legacy batch, WebSocket frames, `/messages`
 * posts of the HTTP+SSE transport — on either entry point; batches longer than
 * `maxBatchLength` are refused whole before any entry runs, so one HTTP request's work is
 * bounded by the parse limits.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { DEFAULT_MAX_BATCH_LENGTH, DEFAULT_BODY_LIMIT_BYTES } from '@mcp-cluster/config';
import { SseReader } from '@mcp-cluster/testkit';
import {
  FLOOD_BUDGET,
  STATIC_TOKENS,
  bearer,
  bearerSubprotocol,
  freshAddress,
  mintJwt,
  modern,
  openWebSocket,
  rpcError,
  rpcResult,
  postOnSession,
  send,
  wsRequest,
} from './support.js';
import type { RawResponse } from './support.js';
import { INVALID_REQUEST, RATE_LIMITED, expectRefused, withoutSideEffects } from './target.js';
import type { AttackPart, AttackTarget } from './target.js';

/** The revision whose sessions may send batches. */
const BATCH_VERSION = '2025-03-26';

type Message = Record<string, unknown> & {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
};

const ping = (id: string): Record<string, unknown> => ({ jsonrpc: '2.0', id, method: 'ping' });
const pings = (prefix: string, n: number): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ping(`${prefix}-${i}`));
const echoCall = (id: string, text: string): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text } },
});

const initializeParams = {
  protocolVersion: BATCH_VERSION,
  capabilities: {},
  clientInfo: { name: 'attack-suite', version: '1' },
};

/** The JSON-RPC messages of an answer, batches flattened. */
function answers(messages: readonly unknown[]): Message[] {
  return messages.flat() as Message[];
}

function tally(list: readonly Message[]): { results: number; limited: number; other: number } {
  let results = 0;
  let limited = 0;
  for (const m of list) {
    if (m.result !== undefined) results++;
    else if (m.error?.code === RATE_LIMITED) limited++;
  }
  return { results, limited, other: list.length - results - limited };
}

/** A legacy session at the batch revision over Streamable HTTP; one request (one token). */
async function batchSession(
  url: string,
  auth: Record<string, string>,
  from: string,
): Promise<string> {
  const r = await send(url, {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...auth,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initializeParams }),
    from,
  });
  const sid = r.headers['mcp-session-id'];
  if (r.status !== 200 || typeof sid !== 'string') {
    throw new Error(`initialize refused: ${r.status} ${r.text}`);
  }
  return sid;
}

/** One POST of `body` (a batch, or any JSON text) on a legacy session of BATCH_VERSION. */
function postToSession(
  url: string,
  sessionId: string,
  body: unknown,
  auth: Record<string, string>,
  from: string,
): Promise<RawResponse> {
  return postOnSession(url, sessionId, body, auth, {
    from,
    version: BATCH_VERSION,
    timeoutMs: 30_000,
  });
}

/** Rate-limited refusals the audit trail holds for `principal`. */
function limitedAudits(t: AttackTarget, principal: string): number {
  return t.audit().filter((e) => e['event'] === 'rate_limited' && e['principal'] === principal)
    .length;
}

/**
 * Sends `frames` on an open socket at once and collects the answers until `expected`
 * messages (batches flattened) came back; bounded.
 */
function wsCollect(
  socket: WebSocket,
  frames: readonly unknown[],
  expected: number,
): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`${got.length} of ${expected} answers came back`));
    }, 15_000);
    const onMessage = (data: Buffer): void => {
      got.push(...answers([JSON.parse(data.toString('utf8')) as unknown]));
      if (got.length < expected) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(got);
    };
    socket.on('message', onMessage);
    for (const f of frames) socket.send(typeof f === 'string' ? f : JSON.stringify(f));
  });
}

/**
 * A WebSocket for `token` at `url`, initialized at the batch revision: its next frame may be
 * a batch. Two tokens with the upgrade.
 */
async function batchSocket(url: string, token: string, from: string): Promise<WebSocket> {
  const ws = await openWebSocket(url, ['mcp', bearerSubprotocol(token)], from);
  if (!ws.open) throw new Error(`upgrade refused: ${ws.status}`);
  const init = await wsRequest(ws.socket, {
    id: 'init',
    method: 'initialize',
    params: initializeParams,
  });
  if (init['result'] === undefined) throw new Error(`initialize failed: ${JSON.stringify(init)}`);
  return ws.socket;
}

/**
 * A batch of pings as close to `bytes` as a whole number of entries gets (ids padded so
 * every entry has the same length).
 */
function hostileBatch(bytes: number): { text: string; entries: number } {
  const entry = (i: number): string =>
    JSON.stringify({ jsonrpc: '2.0', id: `h${String(i).padStart(7, '0')}`, method: 'ping' });
  const per = entry(0).length + 1;
  const entries = Math.floor((bytes - 2) / per);
  const parts = new Array<string>(entries);
  for (let i = 0; i < entries; i++) parts[i] = entry(i);
  return { text: `[${parts.join(',')}]`, entries };
}

export const messageAttacks: AttackPart = (target) => {
  it('a legacy batch spends one token per message: the budget is answered, the rest -32012, and asking again gets nothing', async () => {
    const t = target();
    const auth = bearer(STATIC_TOKENS.floodBatch);
    const from = freshAddress();
    // initialize is one message: one token.
    const sessionId = await batchSession(t.urls[0], auth, from);
    const remaining = FLOOD_BUDGET - 1;
    const audited = limitedAudits(t, 'static:flood-batch');
    const n = 2 * FLOOD_BUDGET;
    // Pings, then notifications: the notifications come after the budget and are dropped.
    const notes = Array.from({ length: 3 }, () => ({
      jsonrpc: '2.0',
      method: 'notifications/roots/list_changed',
    }));
    const r = await postToSession(t.urls[0], sessionId, [...pings('b', n), ...notes], auth, from);
    expect(r.status).toBe(200);
    const list = answers(r.messages);
    expect(list).toHaveLength(n);
    expect(tally(list)).toEqual({ results: remaining, limited: n - remaining, other: 0 });
    for (const m of list.filter((a) => a.error !== undefined)) {
      expect(m.id).toMatch(/^b-\d+$/);
      expect(Number(m.error?.data?.['retryAfterMs'])).toBeGreaterThan(0);
    }
    // Each refused message (pings and notifications alike) is audited.
    expect(limitedAudits(t, 'static:flood-batch') - audited).toBe(n - remaining + notes.length);

    // Asking again, at either entry point, in a batch or alone: nothing more is answered.
    for (const url of t.urls) {
      const again = await postToSession(url, sessionId, pings('again', 5), auth, from);
      expectRefused(again, 429, RATE_LIMITED);
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
      expect(tally(answers(again.messages)).results).toBe(0);
      const alone = await modern(url, 'tools/list', {}, auth, { from });
      expectRefused(alone, 429, RATE_LIMITED);
    }
  });

  it('the per-principal budget is shared by both entry points and every transport', async () => {
    const t = target();
    const auth = bearer(STATIC_TOKENS.floodShared);
    const from = freshAddress();
    const sessionId = await batchSession(t.urls[0], auth, from);
    const first = await postToSession(t.urls[0], sessionId, pings('s0', 10), auth, from);
    expect(tally(answers(first.messages))).toEqual({ results: 10, limited: 0, other: 0 });
    // The other entry point draws from the same bucket: 1 + 10 tokens are gone.
    const remaining = FLOOD_BUDGET - 11;
    const second = await postToSession(t.urls[1], sessionId, pings('s1', FLOOD_BUDGET), auth, from);
    expect(second.status).toBe(200);
    expect(tally(answers(second.messages))).toEqual({
      results: remaining,
      limited: FLOOD_BUDGET - remaining,
      other: 0,
    });
    // The empty bucket refuses the other transports too (the upgrade is a request).
    for (const url of t.urls) {
      const ws = await openWebSocket(
        url,
        ['mcp', bearerSubprotocol(STATIC_TOKENS.floodShared)],
        from,
      );
      if (ws.open) ws.socket.close();
      expect(ws).toEqual({ open: false, status: 429 });
    }
  });

  it('WebSocket frames spend from the per-principal bucket, frame by frame and in batches', async () => {
    const t = target();
    const from = freshAddress();
    // The upgrade and initialize took one token each.
    const socket = await batchSocket(t.urls[1], STATIC_TOKENS.floodWs, from);
    try {
      // Frames that are not JSON-RPC are answered (-32700) and cost one token each too.
      const garbage = ['{"jsonrpc":', 'not json'];
      const remaining = FLOOD_BUDGET - 2 - garbage.length;
      const audited = limitedAudits(t, 'static:flood-ws');
      const frames = [...garbage, ...pings('w', remaining + 3)];
      const list = await wsCollect(socket, frames, frames.length);
      expect(tally(list)).toEqual({ results: remaining, limited: 3, other: garbage.length });
      expect(list.filter((m) => m.error?.code === -32700)).toHaveLength(garbage.length);
      // A batch frame: every entry is refused in-band, with its id.
      const batch = await wsCollect(socket, [pings('wb', 4)], 4);
      expect(tally(batch)).toEqual({ results: 0, limited: 4, other: 0 });
      expect(batch.map((m) => m.id).sort()).toEqual(['wb-0', 'wb-1', 'wb-2', 'wb-3']);
      // A notification over the budget is dropped (audited), and the connection still answers.
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
      const after = await wsCollect(socket, [ping('last')], 1);
      expect(after[0]?.error?.code).toBe(RATE_LIMITED);
      expect(limitedAudits(t, 'static:flood-ws') - audited).toBe(3 + 4 + 1 + 1);
    } finally {
      socket.close();
    }
  });

  it('/messages posts of the legacy HTTP+SSE transport spend from the per-principal bucket', async () => {
    const t = target();
    const auth = bearer(STATIC_TOKENS.floodSse);
    const base = new URL(t.urls[0]).origin;
    const ac = new AbortController();
    // GET /sse is a request: one token.
    const stream = await fetch(`${base}/sse`, {
      headers: { accept: 'text/event-stream', ...auth },
      signal: ac.signal,
    });
    try {
      expect(stream.status).toBe(200);
      const events = new SseReader(stream);
      const endpoint = (await events.next())?.data ?? '';
      expect(endpoint).toMatch(/^\/messages\?sessionId=/);
      const post = (body: unknown): Promise<RawResponse> =>
        send(`${base}${endpoint}`, {
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify(body),
        });
      // initialize: one POST carrying one message, one token.
      expect(
        (await post({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: initializeParams }))
          .status,
      ).toBe(202);
      expect(await events.nextMessage<Message>()).toMatchObject({ id: 'init' });
      // The very next post may be a batch (the session's revision allows them).
      const remaining = FLOOD_BUDGET - 2;
      const batch = pings('m', FLOOD_BUDGET);
      expect((await post(batch)).status).toBe(202);
      const list = answers([await events.nextMessage()]);
      expect(list).toHaveLength(FLOOD_BUDGET);
      expect(tally(list)).toEqual({
        results: remaining,
        limited: FLOOD_BUDGET - remaining,
        other: 0,
      });
      // Nothing left: the next post is refused before its body is read.
      const refused = await post(ping('late'));
      expectRefused(refused, 429, RATE_LIMITED);
    } finally {
      ac.abort();
    }
  });

  it('a batch longer than maxBatchLength is refused whole with -32600 naming the limit; nothing runs', async () => {
    const t = target();
    const max = DEFAULT_MAX_BATCH_LENGTH;
    const auth = bearer(await mintJwt(t.keys, { sub: 'batcher', roles: ['reader'] }));
    const from = freshAddress();
    const sessionId = await batchSession(t.urls[0], auth, from);
    const calls = (n: number, prefix: string): Record<string, unknown>[] =>
      Array.from({ length: n }, (_, i) => echoCall(`${prefix}-${i}`, `over-${i}`));
    const socket = await batchSocket(
      t.urls[1],
      await mintJwt(t.keys, { sub: 'ws-batcher', roles: ['reader'] }),
      from,
    );
    try {
      await withoutSideEffects(t, async () => {
        for (const url of t.urls) {
          for (const n of [max + 1, 5 * max]) {
            const r = await postToSession(url, sessionId, calls(n, 'c'), auth, from);
            expectRefused(r, 400, INVALID_REQUEST);
            expect(r.messages).toHaveLength(1);
            expect((r.messages[0] as Message).id).toBeNull();
            expect(rpcError(r)?.message).toContain(String(max));
          }
        }
        // A notification first does not slip through either.
        const led = [{ jsonrpc: '2.0', method: 'notifications/initialized' }, ...calls(max, 'n')];
        expectRefused(
          await postToSession(t.urls[1], sessionId, led, auth, from),
          400,
          INVALID_REQUEST,
        );
        // On a message connection the refusal is in-band, id null.
        const [answer] = await wsCollect(socket, [calls(max + 1, 'w')], 1);
        expect(answer).toMatchObject({ id: null, error: { code: INVALID_REQUEST } });
        expect(answer?.error?.message).toContain(String(max));
      });
      // Control: exactly the limit is served.
      const ok = await postToSession(t.urls[0], sessionId, pings('ok', max), auth, from);
      expect(ok.status).toBe(200);
      expect(tally(answers(ok.messages))).toEqual({ results: max, limited: 0, other: 0 });
    } finally {
      socket.close();
    }
  });

  it('a body-limit batch is refused right after parsing while a concurrent ordinary request is answered', async () => {
    const t = target();
    const auth = bearer(await mintJwt(t.keys, { sub: 'hostile-batcher', roles: ['reader'] }));
    const from = freshAddress();
    const sessionId = await batchSession(t.urls[0], auth, from);
    // Just under the default body limit: some 90,000 pings.
    const hostile = hostileBatch(DEFAULT_BODY_LIMIT_BYTES - 1024);
    expect(hostile.entries).toBeGreaterThan(60_000);
    const other = bearer(await mintJwt(t.keys, { sub: 'bystander', roles: ['reader'] }));
    const [batches, ordinary] = await Promise.all([
      Promise.all(t.urls.map((url) => postToSession(url, sessionId, hostile.text, auth, from))),
      (async () => {
        const r = await modern(t.urls[0], 'tools/list', {}, other, { from: freshAddress() });
        const s = await modern(t.urls[1], 'tools/list', {}, other, { from: freshAddress() });
        return [r, s];
      })(),
    ]);
    for (const r of batches) {
      expectRefused(r, 400, INVALID_REQUEST);
      expect(rpcError(r)?.message).toContain(String(DEFAULT_MAX_BATCH_LENGTH));
    }
    for (const r of ordinary) {
      expect(r.status).toBe(200);
      expect(rpcResult(r)?.['tools']).toEqual(expect.any(Array));
    }
    // The session is still usable afterwards.
    const after = await postToSession(
      t.urls[1],
      sessionId,
      [ping(randomBytes(4).toString('hex'))],
      auth,
      from,
    );
    expect(tally(answers(after.messages))).toEqual({ results: 1, limited: 0, other: 0 });
  });
};
