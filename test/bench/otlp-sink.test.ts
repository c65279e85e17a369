import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpSink, type OtlpSink } from './otlp-sink.js';

let sink: OtlpSink | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('startOtlpSink', () => {
  it('answers every POST 200 {} and counts requests and body bytes', async () => {
    sink = await startOtlpSink();
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sink.counts()).toEqual({ requests: 0, bytes: 0 });
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [] }] });
    for (const path of ['/v1/traces', '/anything']) {
      const response = await fetch(`${sink.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.text()).toBe('{}');
    }
    expect(sink.counts()).toEqual({ requests: 2, bytes: 2 * Buffer.byteLength(body) });
  });

  it('refuses other methods without counting them', async () => {
    sink = await startOtlpSink();
    const response = await fetch(`${sink.url}/v1/traces`);
    expect(response.status).toBe(405);
    expect(sink.counts()).toEqual({ requests: 0, bytes: 0 });
  });
});
