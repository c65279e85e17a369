/**
 * Early acks over a real socket (real Redis + NATS): a request still running after its ack
 * delay (a quarter of the gateway's first-byte timeout, named in the signed dispatch headers)
 * gets 200 NDJSON headers at once and its response as the stream's only line; an answer
 * ready before the delay stays one plain JSON body.
 */
import { DISPATCH_HEADERS, NDJSON_TYPE, ackDelayMs } from '@mcp-cluster/cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_VERSION, modernRequest, textOf } from '@mcp-cluster/test-support';
import { InProcessWorkers, envelopeHeaders, postDispatch } from './in-process.test-support.js';
import type { RunningWorker } from './index.js';

/** The gateway's first-byte timeout these dispatches name: the worker acks after 100 ms. */
const FIRST_BYTE_TIMEOUT_MS = 400;
const ACK_DELAY_MS = 100;
/** How long the slow tool runs: well past the first-byte timeout. */
const SLOW_MS = 1_000;
/** Timer and scheduling slack a busy test machine may add to the ack. */
const SLACK_MS = 150;

let cluster: InProcessWorkers;
let worker: RunningWorker;

beforeAll(async () => {
  cluster = new InProcessWorkers();
  worker = await cluster.worker({ nodeId: 'w-early-ack' });
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

interface Timed {
  readonly headersAfterMs: number;
  readonly totalMs: number;
  readonly status: number;
  readonly contentType: string;
  readonly contentLength: string | null;
  readonly text: string;
}

/** Posts a dispatch; when its headers came, when its body ended, and what it held. */
async function timed(
  body: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<Timed> {
  const started = performance.now();
  const res = await postDispatch(worker.url, headers, JSON.stringify(body), {
    signal: AbortSignal.timeout(10_000),
  });
  const headersAfterMs = performance.now() - started;
  const text = await res.text();
  return {
    headersAfterMs,
    totalMs: performance.now() - started,
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    contentLength: res.headers.get('content-length'),
    text,
  };
}

function acking(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...envelopeHeaders(),
    [DISPATCH_HEADERS.firstByteTimeout]: String(FIRST_BYTE_TIMEOUT_MS),
    ...extra,
  };
}

function slowCall(): Record<string, unknown> {
  return modernRequest('tools/call', {
    name: 'slow_compute',
    arguments: { seconds: SLOW_MS / 1000 },
  }).body;
}

describe('worker dispatch: early acks', () => {
  it('derives the ack delay from the first-byte timeout', () => {
    expect(ackDelayMs(String(FIRST_BYTE_TIMEOUT_MS))).toBe(ACK_DELAY_MS);
    expect(ackDelayMs('100')).toBe(50);
    expect(ackDelayMs(undefined)).toBeUndefined();
    expect(ackDelayMs('soon')).toBeUndefined();
    expect(ackDelayMs('0')).toBeUndefined();
  });

  it('a slow tool: NDJSON headers within the ack delay, the response as the only line', async () => {
    const body = slowCall();
    const answer = await timed(body, acking());
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe(NDJSON_TYPE);
    expect(answer.headersAfterMs).toBeLessThan(ACK_DELAY_MS + SLACK_MS);
    expect(answer.totalMs).toBeGreaterThanOrEqual(SLOW_MS - 5);
    const lines = answer.text.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const response = JSON.parse(lines[0] ?? '') as { id: unknown; result: unknown };
    expect(response.id).toBe(body['id']);
    expect(textOf(response.result)).toContain(`in ${SLOW_MS / 1000}s`);
  });

  it('a fast tool: one plain JSON body, as without acks', async () => {
    const body = modernRequest('tools/call', { name: 'test_simple_text', arguments: {} }).body;
    const answer = await timed(body, acking());
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('application/json');
    expect(answer.contentLength).not.toBeNull();
    const response = JSON.parse(answer.text) as { id: unknown; result: unknown };
    expect(response.id).toBe(body['id']);
  });

  it('no first-byte timeout named: a slow tool answers JSON when done (no ack)', async () => {
    const answer = await timed(slowCall(), envelopeHeaders());
    expect(answer.contentType).toContain('application/json');
    expect(answer.headersAfterMs).toBeGreaterThanOrEqual(SLOW_MS - 5);
  });

  it('a refusal keeps its status and JSON body (the ack is armed only once the request runs)', async () => {
    // A legacy session nobody created: the lookup refuses 404, however long it took.
    const answer = await timed(
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      acking({
        ...envelopeHeaders({
          era: 'legacy',
          protocolVersion: LEGACY_VERSION,
          sessionId: 'no-such-session',
        }),
        [DISPATCH_HEADERS.sessionVersion]: '1',
      }),
    );
    expect(answer.status).toBe(404);
    expect(answer.contentType).toContain('application/json');
  });
});
