/**
 * UndiciDispatch's hung-worker signal against real sockets: a worker that takes a request
 * and sends no headers is reported `overdue` soon after its ack delay, while the dispatch
 * itself goes on (it may still be answered); one that acks in time is never reported; the
 * first-byte timeout is reported as such.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_HEADERS, DISPATCH_PATH, NDJSON_TYPE, ackDelayMs } from './dispatch.js';
import { OVERDUE_SWEEP_MS, overdueAfterMs } from './overdue-dispatches.js';
import { UndiciDispatch } from './worker-dispatch.js';
import type { DispatchOutcome, HungEvidence } from './worker-dispatch.js';

const FIRST_BYTE_TIMEOUT_MS = 1_000;
const ACK_DELAY_MS = ackDelayMs(String(FIRST_BYTE_TIMEOUT_MS)) ?? 0;
const ANSWER = '{"jsonrpc":"2.0","id":1,"result":{}}';

let server: Server;
let url: string;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === DISPATCH_PATH && req.headers['x-test-ack'] === '1') {
      // Acks at its ack delay, as a live worker does, and answers much later.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': NDJSON_TYPE });
        res.flushHeaders();
      }, ACK_DELAY_MS);
      setTimeout(() => res.end(`${ANSWER}\n`), 3 * ACK_DELAY_MS);
      return;
    }
    held.push(res); // silent: taken, never answered
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
  [DISPATCH_HEADERS.firstByteTimeout]: String(FIRST_BYTE_TIMEOUT_MS),
  ...extra,
});

/** Drains a stream outcome to its last line. */
async function lastLine(outcome: DispatchOutcome): Promise<string | undefined> {
  if (outcome.kind !== 'stream') return undefined;
  let last: string | undefined;
  for await (const line of outcome.lines) last = line;
  return last;
}

describe('UndiciDispatch onHung', () => {
  it('reports a silent worker overdue after its ack delay, without ending the dispatch', async () => {
    const reports: { id: string; evidence: HungEvidence; at: number }[] = [];
    const clients = new UndiciDispatch({
      firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS,
      onHung: (id, evidence) => reports.push({ id, evidence, at: performance.now() }),
    });
    try {
      let ended = false;
      const started = performance.now();
      const dispatch = clients
        .dispatch({ worker: { id: 'w-silent', url }, body: '{}', headers: headers() })
        .finally(() => (ended = true));
      const deadline = started + 5_000;
      while (reports.length === 0 && performance.now() < deadline) {
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
      }
      expect(reports[0]).toMatchObject({ id: 'w-silent', evidence: 'overdue' });
      const after = (reports[0]?.at ?? Infinity) - started;
      expect(after).toBeGreaterThanOrEqual(overdueAfterMs(ACK_DELAY_MS) - 1);
      expect(after).toBeLessThan(overdueAfterMs(ACK_DELAY_MS) + OVERDUE_SWEEP_MS + 250);
      // The dispatch goes on: only the first-byte timeout ends it.
      expect(ended).toBe(false);
      const outcome = await dispatch;
      expect(outcome.kind).toBe('broken');
      expect(reports.map((r) => r.evidence)).toEqual(['overdue', 'first-byte-timeout']);
    } finally {
      await clients.close();
    }
  });

  it('never reports a worker that acks in time, nor a dispatch naming no first-byte timeout', async () => {
    const reports: string[] = [];
    const clients = new UndiciDispatch({
      firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS,
      onHung: (id) => reports.push(id),
    });
    try {
      const worker = { id: 'w-live', url };
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, () =>
          clients.dispatch({ worker, body: '{}', headers: headers({ 'x-test-ack': '1' }) }),
        ),
      );
      for (const o of outcomes) expect(await lastLine(o)).toBe(ANSWER);
      // No first-byte timeout named: the worker does not ack, so nothing is overdue.
      const unnamed = await clients.dispatch({
        worker: { id: 'w-unnamed', url },
        body: '{}',
        headers: {},
        signal: AbortSignal.timeout(overdueAfterMs(ACK_DELAY_MS) + 2 * OVERDUE_SWEEP_MS),
      });
      expect(unnamed.kind).toBe('broken');
      expect(reports).toEqual([]);
    } finally {
      await clients.close();
    }
  });

  it('abandonIfQuiet ends what a worker serves only when it has been silent long enough', async () => {
    const clients = new UndiciDispatch({ firstByteTimeoutMs: 10 * FIRST_BYTE_TIMEOUT_MS });
    try {
      const worker = { id: 'w-slow-probes', url };
      // It acks a first dispatch (bytes heard just now) and takes a second without a word.
      const answered = await clients.dispatch({
        worker,
        body: '{}',
        headers: headers({ 'x-test-ack': '1' }),
      });
      let ended = false;
      const silent = clients
        .dispatch({ worker, body: '{}', headers: headers() })
        .finally(() => (ended = true));
      // Heard within the last minute: slow probes alone end nothing, and its answer completes.
      expect(clients.abandonIfQuiet(worker.id, 60_000)).toBe(false);
      expect(await lastLine(answered)).toBe(ANSWER);
      expect(ended).toBe(false);
      // Silent for longer than asked (0 ms): its dispatches in flight end, as broken.
      expect(clients.abandonIfQuiet(worker.id, 0)).toBe(true);
      expect((await silent).kind).toBe('broken');
      // Never heard from at all: ended whatever the window.
      expect(clients.abandonIfQuiet('w-never-heard', 60_000)).toBe(true);
    } finally {
      await clients.close();
    }
  });
});
