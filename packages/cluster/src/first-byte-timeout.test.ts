/**
 * UndiciDispatch's first-byte timeout against real sockets: a worker that takes a dispatch and
 * sends nothing ends it `broken` (it may have run) after the timeout; one that sends its
 * headers in time may take as long as it likes for the rest; a silent health check is
 * bounded by the probe timeout.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_PATH, NDJSON_TYPE } from './dispatch.js';
import { UndiciDispatch, isFirstByteTimeout } from './worker-dispatch.js';
import type { DispatchTarget } from './worker-dispatch.js';

const FIRST_BYTE_TIMEOUT_MS = 1_000;
const PROBE_TIMEOUT_MS = 200;
/**
 * undici checks its headers timeout on a coarse clock (ticks of about half a second): it
 * fires from about half a second early to about a second late.
 */
const UNDICI_TIMER_EARLY_MS = 500;
const UNDICI_TIMER_LAG_MS = 1_000;
const SLACK_MS = 300;
/** How long the acknowledging worker takes for its response after the headers. */
const SLOW_BODY_MS = FIRST_BYTE_TIMEOUT_MS + UNDICI_TIMER_LAG_MS + 500;

let server: Server;
let target: (id: string) => DispatchTarget;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === DISPATCH_PATH && req.headers['x-test-ack'] === '1') {
      // Acknowledges at once, answers later: the timeout is on the first byte only.
      res.writeHead(200, { 'content-type': NDJSON_TYPE });
      res.flushHeaders();
      setTimeout(() => res.end('{"jsonrpc":"2.0","id":1,"result":{}}\n'), SLOW_BODY_MS);
      return;
    }
    // Everything else (the dispatch, the health check): taken, never answered.
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  target = (id) => ({ id, url: `http://127.0.0.1:${port}` });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('UndiciDispatch first-byte timeout', () => {
  it('a worker silent after the dispatch: broken (may have run) after the timeout', async () => {
    const port = new UndiciDispatch({ firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS });
    try {
      const started = performance.now();
      const outcome = await port.dispatch({ worker: target('silent'), body: '{}', headers: {} });
      const ms = performance.now() - started;
      expect(outcome.kind).toBe('broken');
      expect(outcome.kind === 'broken' && isFirstByteTimeout(outcome.error)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(FIRST_BYTE_TIMEOUT_MS - UNDICI_TIMER_EARLY_MS);
      expect(ms).toBeLessThan(FIRST_BYTE_TIMEOUT_MS + UNDICI_TIMER_LAG_MS + SLACK_MS);
    } finally {
      await port.close();
    }
  });

  it('an acknowledged dispatch streams past the timeout', async () => {
    const port = new UndiciDispatch({ firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS });
    try {
      const started = performance.now();
      const outcome = await port.dispatch({
        worker: target('acking'),
        body: '{}',
        headers: { 'x-test-ack': '1' },
      });
      expect(outcome.kind).toBe('stream');
      if (outcome.kind !== 'stream') return;
      const lines: string[] = [];
      for await (const line of outcome.lines) lines.push(line);
      expect(lines).toEqual(['{"jsonrpc":"2.0","id":1,"result":{}}']);
      expect(performance.now() - started).toBeGreaterThanOrEqual(SLOW_BODY_MS - 20);
    } finally {
      await port.close();
    }
  });

  it('a silent health check is bounded by the probe timeout', async () => {
    const port = new UndiciDispatch({ probeTimeoutMs: PROBE_TIMEOUT_MS });
    try {
      const started = performance.now();
      const ok = await port.probe(target('silent-probe')).catch(() => false);
      expect(ok).toBe(false);
      expect(performance.now() - started).toBeLessThan(PROBE_TIMEOUT_MS + SLACK_MS);
    } finally {
      await port.close();
    }
  });
});
