import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { childrenOf, spanTree, startOtlpReceiver } from './otlp-receiver.js';
import type { OtlpReceiver } from './otlp-receiver.js';

const TRACE = '5b8efff798038103d269b633813fc60c';

/** An ExportTraceServiceRequest as @opentelemetry/exporter-trace-otlp-http encodes it. */
const request = {
  resourceSpans: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'mcp-gateway' } },
          { key: 'service.instance.id', value: { stringValue: 'g-1' } },
        ],
      },
      scopeSpans: [
        {
          scope: { name: 'mcp-cluster', version: '0.1.0' },
          spans: [
            {
              traceId: TRACE,
              spanId: 'eee19b7ec3c1b174',
              name: 'tools/call get_weather',
              kind: 2,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000001000000',
              attributes: [
                { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
                { key: 'client.port', value: { intValue: 50123 } },
                { key: 'big', value: { intValue: '9007199254740991' } },
                { key: 'ratio', value: { doubleValue: 0.5 } },
                { key: 'ok', value: { boolValue: false } },
                {
                  key: 'list',
                  value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } },
                },
              ],
              links: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), attributes: [] }],
              status: { code: 2, message: 'Invalid params' },
            },
            {
              traceId: TRACE,
              spanId: '1111111111111111',
              parentSpanId: 'eee19b7ec3c1b174',
              name: 'tool get_weather',
              kind: 1,
              attributes: [],
              events: [
                {
                  name: 'exception',
                  attributes: [{ key: 'exception.message', value: { stringValue: 'x' } }],
                },
              ],
              status: { code: 0 },
            },
            {
              traceId: TRACE,
              spanId: '2222222222222222',
              parentSpanId: '',
              name: 'proto-json names',
              kind: 'SPAN_KIND_CLIENT',
              status: { code: 'STATUS_CODE_OK' },
            },
          ],
        },
      ],
    },
  ],
};

async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  path = '/v1/traces',
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

describe('OTLP receiver', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('listens on loopback at an OS-chosen port', () => {
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(receiver.url).not.toMatch(/:0$/);
  });

  it('parses OTLP JSON spans: ids, kind, attributes, links, events, status, resource', async () => {
    const res = await post(receiver.url, JSON.stringify(request), {
      'content-type': 'application/json',
    });
    expect(res).toEqual({ status: 200, body: {} });
    const [server, tool, client] = receiver.spans();
    expect(server).toMatchObject({
      traceId: TRACE,
      spanId: 'eee19b7ec3c1b174',
      name: 'tools/call get_weather',
      kind: 'SERVER',
      serviceName: 'mcp-gateway',
      resource: { 'service.name': 'mcp-gateway', 'service.instance.id': 'g-1' },
      scope: { name: 'mcp-cluster', version: '0.1.0' },
      status: { code: 'ERROR', message: 'Invalid params' },
      links: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), attributes: {} }],
      startTimeUnixNano: '1700000000000000000',
      attributes: {
        'mcp.method.name': 'tools/call',
        'client.port': 50123,
        big: 9007199254740991,
        ratio: 0.5,
        ok: false,
        list: ['a', 2],
      },
    });
    expect(server?.parentSpanId).toBeUndefined();
    expect(tool).toMatchObject({
      kind: 'INTERNAL',
      parentSpanId: 'eee19b7ec3c1b174',
      status: { code: 'UNSET' },
      events: [{ name: 'exception', attributes: { 'exception.message': 'x' } }],
    });
    expect(client).toMatchObject({ kind: 'CLIENT', status: { code: 'OK' } });
    expect(client?.parentSpanId).toBeUndefined();

    expect(childrenOf(receiver.spans(), server!).map((s) => s.name)).toEqual(['tool get_weather']);
    const roots = spanTree(receiver.spans());
    expect(roots.map((r) => [r.span.name, r.children.map((c) => c.span.name)])).toEqual([
      ['tools/call get_weather', ['tool get_weather']],
      ['proto-json names', []],
    ]);
  });

  it('accepts a gzip body and a charset parameter', async () => {
    const res = await post(receiver.url, gzipSync(JSON.stringify(request)), {
      'content-type': 'application/json; charset=utf-8',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(receiver.spans()).toHaveLength(3);
  });

  it('refuses protobuf with 415 and says why', async () => {
    const res = await post(receiver.url, Buffer.from([0x0a, 0x00]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(415);
    expect(JSON.stringify(res.body)).toMatch(/protobuf is not supported/);
    expect(receiver.spans()).toEqual([]);
  });

  it('answers 404 for other signals, 405 for other methods, 400 for bad JSON', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await post(receiver.url, '{}', json, '/v1/metrics')).status).toBe(404);
    expect((await fetch(`${receiver.url}/v1/traces`)).status).toBe(405);
    expect((await post(receiver.url, '{not json', json)).status).toBe(400);
    expect(receiver.refused().map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/v1/metrics', 404],
      ['GET', '/v1/traces', 405],
      ['POST', '/v1/traces', 400],
    ]);
  });

  it('waitForSpans resolves when a later export satisfies the predicate', async () => {
    const waiting = receiver.waitForSpans((spans) =>
      spans.some((s) => s.name === 'tool get_weather'),
    );
    await post(receiver.url, JSON.stringify(request), { 'content-type': 'application/json' });
    const spans = await waiting;
    expect(spans.map((s) => s.name)).toContain('tool get_weather');
    // Already satisfied: resolves at once.
    await expect(receiver.waitForSpans((s) => s.length === 3)).resolves.toHaveLength(3);
  });

  it('waitForSpans rejects after its timeout, listing what arrived', async () => {
    await post(receiver.url, JSON.stringify(request), { 'content-type': 'application/json' });
    await expect(receiver.waitForSpans((s) => s.length > 10, 50)).rejects.toThrow(
      /within 50 ms; got 3:\nSERVER tools\/call get_weather \(mcp-gateway\)\n {2}INTERNAL tool get_weather/,
    );
  });
});
