/**
 * A legacy call the gateway must never send twice (a tool not annotated read-only or
 * idempotent) is answered on a primed, resumable SSE stream opened before the call runs, so a
 * client whose gateway dies mid-call can resume it elsewhere (the other half, the resume on
 * another gateway, is in stream-mirror.redis.test.ts and test/e2e/gateway-restart.test.ts).
 * Everything else keeps its one JSON write.
 */
import { describe, expect, it } from 'vitest';
import { findResponse, postMcp } from '@mcp-cluster/test-support';
import { InProcessCluster } from './in-process.test-support.js';
import { WRITES_PACK } from './test-fixtures/packs.js';
import { READ_TOOL, WRITE_TOOL } from './test-fixtures/writes-pack.js';

const BOTH = 'application/json, text/event-stream';

async function openSession(url: string, protocolVersion: string): Promise<Record<string, string>> {
  const init = await postMcp(url, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  const id = init.headers.get('mcp-session-id');
  if (id === null) throw new Error(`initialize: ${init.status} ${init.text}`);
  const headers = { 'mcp-session-id': id, 'mcp-protocol-version': protocolVersion };
  await postMcp(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  return headers;
}

describe('how a gateway answers a legacy tools/call', () => {
  it('a write: SSE whose first event is the priming one; a read-only call, older sessions and JSON-only clients: JSON', async () => {
    await using cluster = new InProcessCluster();
    const { gateway } = await cluster.gatewayWithWorker({
      worker: { packs: ['builtin:conformance', WRITES_PACK] },
    });
    const call = async (
      headers: Record<string, string>,
      name: string,
      accept = BOTH,
    ): Promise<{ contentType: string; text: string; result: unknown }> => {
      const all = await postMcp(
        gateway.url,
        { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } },
        { ...headers, accept },
      );
      expect(all.status).toBe(200);
      return {
        contentType: all.contentType,
        text: all.text,
        result: findResponse(all.messages, 7)?.['result'],
      };
    };
    const current = await openSession(gateway.url, '2025-11-25');

    const write = await call(current, WRITE_TOOL);
    expect(write.contentType).toMatch(/^text\/event-stream/);
    // The priming event (an id, `retry:` and empty data) comes before anything else.
    expect(write.text).toMatch(/^id: [^\n]+~[1-9]\d*:0\nretry: \d+\ndata: \n\n/);
    expect(write.result).toMatchObject({ content: [{ type: 'text', text: 'written' }] });
    // Resuming the stream after its last event: nothing more will come, and 204 says so (a
    // client resumes a stream whose last message was an error; it must not loop).
    const ids = [...write.text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
    expect(ids).toHaveLength(2); // priming, then the response
    const resume = (lastEventId: string): Promise<Response> =>
      fetch(gateway.url, {
        headers: { ...current, accept: 'text/event-stream', 'last-event-id': lastEventId },
      });
    expect((await resume(ids[1]!)).status).toBe(204);
    // From the priming event on, the response is replayed.
    const replay = await resume(ids[0]!);
    expect(replay.status).toBe(200);
    expect(await replay.text()).toContain('"written"');

    const read = await call(current, READ_TOOL);
    expect(read.contentType).toMatch(/^application\/json/);
    expect(read.result).toMatchObject({ content: [{ type: 'text', text: 'read' }] });

    // A client that cannot take SSE, and a revision without priming, keep the JSON answer.
    const jsonOnly = await call(current, WRITE_TOOL, 'application/json');
    expect(jsonOnly.contentType).toMatch(/^application\/json/);
    expect(jsonOnly.result).toMatchObject({ content: [{ type: 'text', text: 'written' }] });
    const older = await openSession(gateway.url, '2025-06-18');
    const olderWrite = await call(older, WRITE_TOOL);
    expect(olderWrite.contentType).toMatch(/^application\/json/);
    expect(olderWrite.result).toMatchObject({ content: [{ type: 'text', text: 'written' }] });
  });
});
