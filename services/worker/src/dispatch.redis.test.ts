/**
 * The worker's dispatch endpoint over a real socket (real Redis + NATS): what a gateway may
 * send it, and what a hostile or buggy peer may send it. Every failure is a precise
 * `{ error: { code, message } }` body with the status of packages/cluster/src/dispatch.ts, and
 * the worker keeps serving afterwards.
 */
import { randomUUID } from 'node:crypto';
import {
  DISPATCH_HEADERS,
  DISPATCH_PATH,
  DISPATCH_SIGNATURE_HEADER,
  ENVELOPE_HEADERS,
  HEALTH_PATH,
  NDJSON_TYPE,
  dispatchSignature,
  signDispatch,
} from '@mcp-cluster/cluster';
import type { ClusterState, DispatchEnvelope, DispatchRefusal } from '@mcp-cluster/cluster';
import { MetaKey, RpcError } from '@mcp-cluster/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_VERSION, modernRequest, textOf } from '@mcp-cluster/test-support';
import {
  InProcessWorkers,
  TEST_DISPATCH_SECRET,
  envelopeHeaders,
  postDispatch,
} from './in-process.test-support.js';
import type { RunningWorker } from './index.js';

/** Small enough to exceed cheaply; the config minimum is 1 KiB. */
const BODY_LIMIT_BYTES = 2_048;
const MAX_JSON_DEPTH = 16;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

interface Failure {
  error: { code: number; message: string };
}

let cluster: InProcessWorkers;
let worker: RunningWorker;
let state: ClusterState;

beforeAll(async () => {
  cluster = new InProcessWorkers();
  worker = await cluster.worker({
    nodeId: 'w-dispatch',
    bodyLimitBytes: BODY_LIMIT_BYTES,
    maxJsonDepth: MAX_JSON_DEPTH,
  });
  state = await cluster.state();
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

async function dispatch(
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await postDispatch(worker.url, headers, text, {
    signal: signal ?? AbortSignal.timeout(10_000),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

function failure(answer: Answer): Failure['error'] {
  expect(answer.contentType).toContain('application/json');
  const body = JSON.parse(answer.text) as Failure;
  expect(Object.keys(body)).toEqual(['error']);
  return body.error;
}

/** A modern request body (with `_meta`) and its envelope. */
function modern(
  method: string,
  params: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): { body: Record<string, unknown>; headers: Record<string, string> } {
  return { body: modernRequest(method, params, { meta }).body, headers: envelopeHeaders() };
}

function legacyHeaders(
  sessionId: string,
  extra: Record<string, string> = {},
  over: Partial<DispatchEnvelope> = {},
): Record<string, string> {
  return {
    ...envelopeHeaders({ era: 'legacy', protocolVersion: LEGACY_VERSION, sessionId, ...over }),
    ...extra,
  };
}

/** The worker still answers a health check and a plain call. */
async function expectStillServing(): Promise<void> {
  const health = await fetch(`${worker.url}${HEALTH_PATH}`);
  expect(health.status).toBe(200);
  const { body, headers } = modern('tools/call', { name: 'test_simple_text', arguments: {} });
  const answer = await dispatch(body, headers);
  expect(answer.status).toBe(200);
  expect((JSON.parse(answer.text) as { result?: unknown }).result).toBeDefined();
}

describe('worker dispatch: hostile input', () => {
  const call = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

  it('no envelope at all -> 400 naming the first missing field', async () => {
    const answer = await dispatch(call, {});
    expect(answer.status).toBe(400);
    expect(failure(answer)).toEqual({
      code: RpcError.InvalidRequest.code,
      message: 'invalid envelope field era: missing',
    });
  });

  it.each([
    ['unknown era', { [ENVELOPE_HEADERS.era]: 'future' }, 'era: unknown era'],
    [
      'unsupported revision',
      { [ENVELOPE_HEADERS.protocolVersion]: '2024-01-01' },
      'protocolVersion: not a supported modern revision',
    ],
    ['deadline in the past', { [ENVELOPE_HEADERS.deadline]: '1000' }, 'deadline: already passed'],
    [
      'deadline not digits',
      { [ENVELOPE_HEADERS.deadline]: '1e20' },
      'deadline: not decimal digits',
    ],
    [
      'principal not base64url',
      { [ENVELOPE_HEADERS.principal]: '{"id":1}' },
      'principal: not base64url',
    ],
    [
      'principal of the wrong shape',
      { [ENVELOPE_HEADERS.principal]: Buffer.from('{"id":"x"}').toString('base64url') },
      'principal: wrong shape',
    ],
    [
      'capabilities not JSON',
      { [ENVELOPE_HEADERS.clientCapabilities]: Buffer.from('{').toString('base64url') },
      'clientCapabilities: not JSON',
    ],
    [
      'session id on a modern request',
      { [ENVELOPE_HEADERS.sessionId]: 'abc' },
      'sessionId: modern requests have no session',
    ],
    [
      'bad traceparent',
      { [ENVELOPE_HEADERS.traceparent]: 'nope' },
      'traceparent: not version-traceid-parentid-flags in lower-case hex',
    ],
  ])('invalid envelope (%s) -> 400 with the field and reason', async (_, bad, reason) => {
    const answer = await dispatch(call, { ...envelopeHeaders(), ...bad });
    expect(answer.status).toBe(400);
    expect(failure(answer)).toEqual({
      code: RpcError.InvalidRequest.code,
      message: `invalid envelope field ${reason}`,
    });
  });

  it('a body over the limit -> 413 -32015', async () => {
    const { body, headers } = modern('tools/call', {
      name: 'test_simple_text',
      arguments: { pad: 'x'.repeat(BODY_LIMIT_BYTES) },
    });
    const answer = await dispatch(body, headers);
    expect(answer.status).toBe(413);
    expect(failure(answer)).toEqual({
      code: RpcError.PayloadTooLarge.code,
      message: RpcError.PayloadTooLarge.message,
    });
  });

  it('invalid JSON -> 400 -32700', async () => {
    const answer = await dispatch('{"jsonrpc":"2.0",', envelopeHeaders());
    expect(answer.status).toBe(400);
    expect(failure(answer).code).toBe(RpcError.ParseError.code);
  });

  it('JSON nested deeper than maxJsonDepth -> 400 -32600 naming the limit', async () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH * 4)}${']'.repeat(MAX_JSON_DEPTH * 4)}`;
    const answer = await dispatch(deep, envelopeHeaders());
    expect(answer.status).toBe(400);
    expect(failure(answer)).toEqual({
      code: RpcError.InvalidRequest.code,
      message: `JSON nesting exceeds the depth limit of ${MAX_JSON_DEPTH}`,
    });
  });

  it('a batch -> 400 -32600 (one message per dispatch)', async () => {
    const answer = await dispatch([call, { ...call, id: 2 }], envelopeHeaders());
    expect(answer.status).toBe(400);
    expect(failure(answer).code).toBe(RpcError.InvalidRequest.code);
  });

  it('not a JSON-RPC message -> 400 -32600', async () => {
    const answer = await dispatch({ hello: 'world' }, envelopeHeaders());
    expect(answer.status).toBe(400);
    expect(failure(answer).code).toBe(RpcError.InvalidRequest.code);
  });

  it('a legacy dispatch without a session id -> 400', async () => {
    const headers = envelopeHeaders({ era: 'legacy', protocolVersion: LEGACY_VERSION });
    const answer = await dispatch(call, headers);
    expect(answer.status).toBe(400);
    expect(failure(answer)).toEqual({
      code: RpcError.InvalidRequest.code,
      message: 'legacy dispatch without a session',
    });
  });

  it('a legacy dispatch for an unknown session -> 404 -32001', async () => {
    const answer = await dispatch(call, legacyHeaders(`unknown-${randomUUID()}`));
    expect(answer.status).toBe(404);
    expect(failure(answer)).toEqual({
      code: RpcError.SessionNotFound.code,
      message: RpcError.SessionNotFound.message,
    });
  });

  it('a modern request without _meta -> 400 -32602 naming _meta', async () => {
    const answer = await dispatch(call, envelopeHeaders());
    expect(answer.status).toBe(400);
    const error = failure(answer);
    expect(error.code).toBe(RpcError.InvalidParams.code);
    expect(error.message).toContain('_meta');
  });

  it('_meta naming another revision than the envelope -> 400 -32020', async () => {
    const { body } = modern('tools/list');
    const params = body['params'] as { _meta: Record<string, unknown> };
    params._meta = { ...params._meta, [MetaKey.ProtocolVersion]: '2025-11-25' };
    const answer = await dispatch(body, envelopeHeaders());
    expect(answer.status).toBe(400);
    expect(failure(answer).code).toBe(RpcError.HeaderMismatch.code);
  });

  it('Mcp-Name that does not match the body (check-params) -> a -32020 JSON-RPC error', async () => {
    const { body } = modern('tools/call', { name: 'test_simple_text', arguments: {} });
    const answer = await dispatch(body, {
      ...envelopeHeaders(),
      [DISPATCH_HEADERS.checkParams]: '1',
      'mcp-method': 'tools/call',
      'mcp-name': 'something_else',
    });
    expect(answer.status).toBe(200);
    const response = JSON.parse(answer.text) as Failure;
    expect(response.error.code).toBe(RpcError.HeaderMismatch.code);
  });

  it('after all of the above the worker keeps serving', async () => {
    await expectStillServing();
    // None of it reached the catch-all (a 500 and an error log).
    expect(cluster.errors()).toEqual([]);
  });
});

describe('worker dispatch: modern requests', () => {
  it('tools/call answers one JSON response', async () => {
    const { body, headers } = modern('tools/call', { name: 'test_simple_text', arguments: {} });
    const answer = await dispatch(body, headers);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('application/json');
    const response = JSON.parse(answer.text) as { id: unknown; result: unknown };
    expect(response.id).toBe(body['id']);
    expect(textOf(response.result)).toMatch(/simple text/i);
  });

  it('a call with progress streams NDJSON: progress lines first, the response last', async () => {
    const token = `p-${randomUUID()}`;
    const { body, headers } = modern(
      'tools/call',
      { name: 'test_tool_with_progress', arguments: {} },
      { progressToken: token },
    );
    const answer = await dispatch(body, headers);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain(NDJSON_TYPE);
    expect(answer.text.endsWith('\n')).toBe(true);
    const lines = answer.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const final = lines.at(-1);
    expect(final).toMatchObject({ jsonrpc: '2.0', id: body['id'] });
    expect(textOf(final?.['result'])).toBe(token);
    const progress = lines.slice(0, -1);
    expect(progress.map((m) => m['method'])).toEqual([
      'notifications/progress',
      'notifications/progress',
      'notifications/progress',
    ]);
    expect(progress.map((m) => (m['params'] as { progress: number }).progress)).toEqual([
      0, 50, 100,
    ]);
    for (const m of progress) {
      expect((m['params'] as { progressToken: unknown }).progressToken).toBe(token);
    }
  });

  it("an unknown tool is the engine's precise JSON-RPC error, not a dispatch failure", async () => {
    const { body, headers } = modern('tools/call', { name: 'no_such_tool', arguments: {} });
    const answer = await dispatch(body, headers);
    expect(answer.status).toBe(200);
    const response = JSON.parse(answer.text) as Failure;
    expect(response.error.code).toBe(RpcError.InvalidParams.code);
    expect(response.error.message).toContain('no_such_tool');
  });

  it('a notification is accepted with 202 and an empty body', async () => {
    const { body, headers } = modern('notifications/roots/list_changed');
    delete body['id'];
    const answer = await dispatch(body, headers);
    expect(answer).toMatchObject({ status: 202, text: '' });
  });
});

describe('worker dispatch: legacy sessions in Redis', () => {
  async function initialize(sessionId: string): Promise<Answer> {
    return dispatch(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: LEGACY_VERSION,
          capabilities: { sampling: {} },
          clientInfo: { name: 'worker-test', version: '1.0.0' },
        },
      },
      legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionNew]: '1' }),
    );
  }

  async function version(sessionId: string): Promise<string> {
    const found = await state.sessions.get(sessionId);
    if (found.status !== 'live') throw new Error(`session ${sessionId} is ${found.status}`);
    return String(found.session.version);
  }

  it('initialize with the session-new header creates the record, pinned to this worker', async () => {
    const sessionId = `s-${randomUUID()}`;
    const answer = await initialize(sessionId);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({
      id: 1,
      result: { protocolVersion: LEGACY_VERSION },
    });
    const found = await state.sessions.get(sessionId);
    expect(found.status).toBe('live');
    if (found.status !== 'live') return;
    expect(found.session).toMatchObject({
      id: sessionId,
      workerId: worker.id,
      protocolVersion: LEGACY_VERSION,
      clientCapabilities: { sampling: {} },
      clientInfo: { name: 'worker-test', version: '1.0.0' },
      initialized: false,
    });
    expect(await state.sessions.getPin(sessionId)).toBe(worker.id);
  });

  it('a failed initialize creates no record', async () => {
    const sessionId = `s-${randomUUID()}`;
    const answer = await dispatch(
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { capabilities: 'nope' } },
      legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionNew]: '1' }),
    );
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.text) as Failure).error.code).toBe(RpcError.InvalidParams.code);
    expect((await state.sessions.get(sessionId)).status).toBe('unknown');
  });

  it('notifications/initialized and logging/setLevel are written back to the store', async () => {
    const sessionId = `s-${randomUUID()}`;
    expect((await initialize(sessionId)).status).toBe(200);

    const initialized = await dispatch(
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      legacyHeaders(sessionId, {
        [DISPATCH_HEADERS.sessionVersion]: await version(sessionId),
      }),
    );
    expect(initialized).toMatchObject({ status: 202, text: '' });
    const afterInit = await state.sessions.get(sessionId);
    expect(afterInit).toMatchObject({ status: 'live', session: { initialized: true } });

    const setLevel = await dispatch(
      { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'error' } },
      legacyHeaders(sessionId, {
        [DISPATCH_HEADERS.sessionVersion]: await version(sessionId),
      }),
    );
    expect(setLevel.status).toBe(200);
    expect(JSON.parse(setLevel.text)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    expect(await state.sessions.get(sessionId)).toMatchObject({
      status: 'live',
      session: { logLevel: 'error', initialized: true, workerId: worker.id },
    });
  });

  it('a session ended in the store is 404 on the worker, even when it was cached', async () => {
    const sessionId = `s-${randomUUID()}`;
    expect((await initialize(sessionId)).status).toBe(200);
    const v = await version(sessionId);
    await state.sessions.delete(sessionId);
    const answer = await dispatch(
      { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} },
      legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionVersion]: String(Number(v) + 1) }),
    );
    expect(answer.status).toBe(404);
    expect(failure(answer).code).toBe(RpcError.SessionNotFound.code);
  });

  it('a legacy tools/call streams logging before the response (NDJSON)', async () => {
    const sessionId = `s-${randomUUID()}`;
    expect((await initialize(sessionId)).status).toBe(200);
    const answer = await dispatch(
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'test_tool_with_logging', arguments: {} },
      },
      legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionVersion]: await version(sessionId) }),
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain(NDJSON_TYPE);
    const lines = answer.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, -1).map((m) => m['method'])).toEqual([
      'notifications/message',
      'notifications/message',
      'notifications/message',
    ]);
    expect(lines.at(-1)).toMatchObject({ jsonrpc: '2.0', id: 4 });
    expect(textOf(lines.at(-1)?.['result'])).toBe('Tool with logging executed successfully');
  });
});

describe('worker dispatch: only a gateway that knows the dispatch secret is served', () => {
  const initialize = (sessionId: string) => ({
    headers: legacyHeaders(sessionId, { [DISPATCH_HEADERS.sessionNew]: '1' }),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LEGACY_VERSION,
        capabilities: {},
        clientInfo: { name: 'intruder', version: '1.0.0' },
      },
    }),
  });

  /** A refused dispatch: 401 -32013, and the session it would have created does not exist. */
  async function expectRefused(
    res: Response,
    sessionId: string,
    reason: DispatchRefusal = 'signature',
    message = 'Dispatch signature missing or invalid',
  ): Promise<void> {
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: RpcError.Unauthorized.code, message },
      reason,
    });
    expect((await state.sessions.get(sessionId)).status).toBe('unknown');
  }

  it('an unsigned dispatch is 401 -32013 and creates nothing', async () => {
    const sessionId = `s-${randomUUID()}`;
    const { headers, body } = initialize(sessionId);
    const res = await fetch(`${worker.url}${DISPATCH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    await expectRefused(res, sessionId);
  });

  it('a dispatch signed with another secret is 401 and creates nothing', async () => {
    const sessionId = `s-${randomUUID()}`;
    const { headers, body } = initialize(sessionId);
    const secret = 'not-the-cluster-secret-but-long-enough';
    await expectRefused(await postDispatch(worker.url, headers, body, { secret }), sessionId);
  });

  it('a signed dispatch with its principal swapped afterwards is 401', async () => {
    // What an intruder replaying a captured dispatch as someone else would send.
    const { body } = modern('tools/list');
    const headers = envelopeHeaders();
    const signed = await postDispatch(worker.url, headers, JSON.stringify(body));
    expect(signed.status).toBe(200);
    const admin = envelopeHeaders({ principal: { id: 'admin', kind: 'user', roles: ['admin'] } });
    const sessionId = `s-${randomUUID()}`;
    const init = initialize(sessionId);
    const res = await fetch(`${worker.url}${DISPATCH_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...init.headers,
        [ENVELOPE_HEADERS.principal]: admin[ENVELOPE_HEADERS.principal] ?? '',
        ...signDispatch(TEST_DISPATCH_SECRET, init.headers, init.body),
      },
      body: init.body,
    });
    await expectRefused(res, sessionId);
    await expectStillServing();
  });

  /** `headers` and their authentication as signed at `now`, posted as they are. */
  function postSigned(
    headers: Record<string, string>,
    body: string,
    auth: Record<string, string> = signDispatch(TEST_DISPATCH_SECRET, headers, body),
  ): Promise<Response> {
    return fetch(`${worker.url}${DISPATCH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...auth },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  }

  /** A signed dispatch runs once: the same one again is 401 `replayed` and changes nothing. */
  async function expectRunsOnce(audience: string | undefined): Promise<void> {
    const sessionId = `s-${randomUUID()}`;
    const { headers, body } = initialize(sessionId);
    const auth = signDispatch(TEST_DISPATCH_SECRET, headers, body, { audience });
    const first = await postSigned(headers, body, auth);
    expect(first.status).toBe(200);
    await first.body?.cancel();
    const created = await state.sessions.get(sessionId);
    expect(created.status).toBe('live');

    const replay = await postSigned(headers, body, auth);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({
      error: { code: RpcError.Unauthorized.code, message: 'Dispatch nonce already used' },
      reason: 'replayed',
    });
    expect(await state.sessions.get(sessionId)).toEqual(created);
    expect(cluster.logs).toEqual(
      expect.arrayContaining([
        {
          level: 'error',
          msg: 'dispatch refused',
          err: expect.objectContaining({ message: 'Dispatch nonce already used' }) as unknown,
        },
      ]),
    );
    await expectStillServing();
  }

  it('a replayed dispatch (its nonce used before) is 401 and changes nothing', () =>
    expectRunsOnce(undefined));

  it('dispatches addressed to its boot id run once; addressed to another process, 421', async () => {
    const record = (await state.registry.list()).find((w) => w.workerId === 'w-dispatch');
    const instance = record?.instance ?? '';
    expect(instance).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await expectRunsOnce(instance);

    const otherId = `s-${randomUUID()}`;
    const other = initialize(otherId);
    const misdirected = await postSigned(
      other.headers,
      other.body,
      signDispatch(TEST_DISPATCH_SECRET, other.headers, other.body, { audience: 'earlier-boot' }),
    );
    expect(misdirected.status).toBe(421);
    expect(await misdirected.json()).toEqual({
      error: {
        code: RpcError.Unavailable.code,
        message: 'Dispatch addressed to another worker process',
      },
      reason: 'audience',
    });
    expect((await state.sessions.get(otherId)).status).toBe('unknown');
    await expectStillServing();
  });

  it('a dispatch signed before the validity (30 s by default) is 401 and creates nothing', async () => {
    const sessionId = `s-${randomUUID()}`;
    const { headers, body } = initialize(sessionId);
    const stale = signDispatch(TEST_DISPATCH_SECRET, headers, body, {
      now: Date.now() - 10 * 60_000,
    });
    await expectRefused(
      await postSigned(headers, body, stale),
      sessionId,
      'expired',
      'Dispatch signature expired',
    );
  });

  it('a dispatch signed without a nonce (or with a malformed one) is 401', async () => {
    const sessionId = `s-${randomUUID()}`;
    const { headers, body } = initialize(sessionId);
    const bare = {
      [DISPATCH_SIGNATURE_HEADER]: dispatchSignature(TEST_DISPATCH_SECRET, headers, body),
    };
    const short = signDispatch(TEST_DISPATCH_SECRET, headers, body, { nonce: 'short' });
    for (const auth of [bare, short]) {
      await expectRefused(
        await postSigned(headers, body, auth),
        sessionId,
        'nonce',
        'Dispatch nonce missing or malformed',
      );
    }
  });

  it('during a rotation a worker accepts the old and the new secret', async () => {
    const next = `next-${randomUUID()}`;
    const rotating = await cluster.worker({ dispatchSecrets: [next, TEST_DISPATCH_SECRET] });
    const { body } = modern('tools/list');
    for (const secret of [next, TEST_DISPATCH_SECRET]) {
      const res = await postDispatch(rotating.url, envelopeHeaders(), JSON.stringify(body), {
        secret,
      });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
    const stale = await postDispatch(rotating.url, envelopeHeaders(), JSON.stringify(body), {
      secret: 'a-secret-that-was-retired-long-ago',
    });
    expect(stale.status).toBe(401);
    await stale.body?.cancel();
  });
});
