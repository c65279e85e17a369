/**
 * GET + Last-Event-ID for a POST stream another node held, against a StreamMirror double:
 * the mirror says the stream is finished (204), that its origin died before answering (the
 * request answered -32016 here, and recorded), or fails (the client is sent back later).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import { mcpTransports } from './plugin.js';
import type { ResumeOutcome, StreamMirror } from './sse.js';
import { BASE_HEADERS, LEGACY_INIT, testEngine } from './testing.js';

const RETRY_MS = 700;
const ELSEWHERE = 'g0.dead~1';

class MirrorDouble implements StreamMirror {
  finishedAnswer: () => Promise<boolean> = () => Promise.resolve(false);
  resumeAnswer: () => Promise<ResumeOutcome> = () => Promise.resolve('unknown');
  readonly recorded: [string, number, JsonRpcMessage | undefined][] = [];
  record(_sessionId: string, streamId: string, seq: number, message: JsonRpcMessage | undefined) {
    this.recorded.push([streamId, seq, message]);
  }
  resume(): Promise<ResumeOutcome> {
    return this.resumeAnswer();
  }
  lastAt(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }
  pending(): void {}
  finished(): Promise<boolean> {
    return this.finishedAnswer();
  }
}

const mirror = new MirrorDouble();
let app: FastifyInstance;
let base: string;
const { host: _host, ...HEADERS } = BASE_HEADERS;

beforeAll(async () => {
  app = Fastify({ logger: false });
  const engine = testEngine();
  await app.register(mcpTransports, {
    engine,
    settings: { sseRetryMs: RETRY_MS },
    sharedStreams: { idPrefix: 'g9.live~', mirror },
  });
  app.addHook('onClose', () => engine.close());
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => app.close());

async function session(): Promise<Record<string, string>> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify(LEGACY_INIT),
  });
  await res.text();
  const h = { ...HEADERS, 'mcp-session-id': res.headers.get('mcp-session-id')! };
  await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return h;
}

const resume = (h: Record<string, string>, lastEventId: string): Promise<Response> =>
  fetch(`${base}/mcp`, {
    headers: { ...h, accept: 'text/event-stream', 'last-event-id': lastEventId },
  });

describe('resuming a POST stream another node held', () => {
  it('is answered 204 when the mirror says it ended with nothing after the last event', async () => {
    const h = await session();
    mirror.finishedAnswer = () => Promise.resolve(true);
    try {
      const res = await resume(h, `${ELSEWHERE}:3`);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
    } finally {
      mirror.finishedAnswer = () => Promise.resolve(false);
    }
  });

  it('answers the orphaned request -32016 "may have run" after the last event, and records it', async () => {
    const h = await session();
    mirror.resumeAnswer = () => Promise.resolve({ orphaned: 'req-9' });
    mirror.recorded.length = 0;
    try {
      const res = await resume(h, `${ELSEWHERE}:0`);
      expect(res.status).toBe(200);
      const text = await res.text();
      const event = /id: (\S+)\ndata: (.+)\n\n/.exec(text);
      expect(event?.[1]).toBe(`${ELSEWHERE}:1`);
      const answer = JSON.parse(event![2]!) as Record<string, unknown>;
      expect(answer).toMatchObject({
        id: 'req-9',
        error: { code: -32016, message: expect.stringMatching(/may have run/) },
      });
      expect(answer['error']).toMatchObject({ data: { retryAfterMs: expect.any(Number) } });
      // Recorded with its end, so another resume finds it answered.
      expect(mirror.recorded).toEqual([
        [ELSEWHERE, 1, answer],
        [ELSEWHERE, 1, undefined],
      ]);
    } finally {
      mirror.resumeAnswer = () => Promise.resolve('unknown');
    }
  });

  it('sends the client back with retry: and its last event id when the store fails', async () => {
    const h = await session();
    mirror.finishedAnswer = () => Promise.reject(new Error('store down'));
    mirror.resumeAnswer = () => Promise.reject(new Error('store down'));
    try {
      const res = await resume(h, `${ELSEWHERE}:2`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(`id: ${ELSEWHERE}:2\nretry: ${RETRY_MS}\n`);
    } finally {
      mirror.finishedAnswer = () => Promise.resolve(false);
      mirror.resumeAnswer = () => Promise.resolve('unknown');
    }
  });
});
