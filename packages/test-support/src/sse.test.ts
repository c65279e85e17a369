/**
 * SSE parsing: one parser for events (ids, retry, multi-line data, comments, priming events)
 * behind both SseReader and readMcpResponse.
 */
import { describe, expect, it } from 'vitest';
import { readMcpResponse } from './http.js';
import { SseReader, parseSseEvent } from './sse.js';

/** A text/event-stream response whose body arrives in `chunks`. */
function sseResponse(chunks: readonly string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

const PRIMING = 'id: e0\nretry: 1000\ndata:\n\n';
const MESSAGE = { jsonrpc: '2.0', id: 1, result: {} };

describe('parseSseEvent', () => {
  it('reads id, retry and data; joins data lines; a comment-only block is no event', () => {
    expect(parseSseEvent('id: 7\nretry: 500\ndata: a\ndata: b')).toEqual({
      id: '7',
      retry: 500,
      data: 'a\nb',
    });
    expect(parseSseEvent(': keep-alive')).toBeUndefined();
    expect(parseSseEvent('id: e0\ndata:')).toEqual({ id: 'e0', data: '' });
  });
});

describe('SseReader', () => {
  it('yields events across chunk borders with their ids, skipping keep-alives', async () => {
    const reader = new SseReader(
      sseResponse([
        PRIMING,
        ': ping\n\n',
        'id: e1\r\ndata: {"jsonrpc":"2.0",',
        '"id":1,"result":{}}\r\n\r\n',
      ]),
    );
    expect(await reader.next()).toEqual({ id: 'e0', retry: 1000, data: '' });
    expect(await reader.until((m: { id?: unknown }) => m.id === 1)).toEqual({
      message: MESSAGE,
      id: 'e1',
    });
    expect(await reader.next()).toBeUndefined();
  });

  it('nextMessage skips the priming event', async () => {
    const reader = new SseReader(sseResponse([PRIMING, `data: ${JSON.stringify(MESSAGE)}\n\n`]));
    expect(await reader.nextMessage()).toEqual(MESSAGE);
    expect(await reader.nextMessage()).toBeUndefined();
  });

  it('until rejects when the stream ends first', async () => {
    const reader = new SseReader(sseResponse([PRIMING]));
    await expect(reader.until(() => true)).rejects.toThrow('stream ended');
  });
});

describe('readMcpResponse on SSE', () => {
  it('reads the messages of a body with priming events and keep-alives as the reader does', async () => {
    const chunks = [PRIMING, ': ping\n\n', `id: e1\ndata: ${JSON.stringify(MESSAGE)}\n\n`];
    const read = await readMcpResponse(sseResponse(chunks));
    expect(read.messages).toEqual([MESSAGE]);
  });
});
