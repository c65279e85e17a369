/**
 * An OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` in the OTLP JSON encoding
 * (what @opentelemetry/exporter-trace-otlp-http sends) on 127.0.0.1, keeps the spans, and lets a
 * test wait for the ones it expects. Protobuf bodies are refused (415). Uses node:http only.
 */
import { createServer } from 'node:http';
import { listenLoopback } from './ports.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type SpanKindName = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message?: string };
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  scope: { name?: string; version?: string };
  /** The resource's `service.name`. */
  serviceName?: string;
  resource: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  /** The base endpoint (`http://127.0.0.1:PORT`), for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  /** The spans received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Resolves with all spans received once `predicate` holds for them; rejects after the timeout. */
  waitForSpans(
    predicate: (spans: ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  /** Requests answered with an error status (another signal's path, protobuf, bad JSON). */
  refused(): RefusedRequest[];
  close(): Promise<void>;
}

export interface RefusedRequest {
  method: string;
  path: string;
  status: number;
  contentType?: string;
}

export const DEFAULT_OTLP_WAIT_TIMEOUT_MS = 10_000;
/** Larger bodies are answered 413. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const KINDS: readonly SpanKindName[] = [
  'INTERNAL',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
];
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string or number field as text ('' for anything else). */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An OTLP AnyValue in its JSON form; int64 may come as a string. */
function anyValue(value: unknown): AttributeValue {
  const v = asRecord(value);
  if ('stringValue' in v) return String(v['stringValue']);
  if ('boolValue' in v) return v['boolValue'] === true;
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return Number(v['doubleValue']);
  if ('bytesValue' in v) return String(v['bytesValue']);
  if ('arrayValue' in v) return asArray(asRecord(v['arrayValue'])['values']).map(anyValue);
  if ('kvlistValue' in v) return keyValues(asRecord(v['kvlistValue'])['values']);
  return null;
}

function keyValues(list: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const entry of asArray(list)) {
    const kv = asRecord(entry);
    if (typeof kv['key'] === 'string') out[kv['key']] = anyValue(kv['value']);
  }
  return out;
}

/** Enums arrive as numbers from the JS exporter; proto3 JSON also allows their names. */
function enumIndex(value: unknown, prefix: string, names: readonly string[]): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const index = names.indexOf(value.replace(prefix, ''));
    return index === -1 ? 0 : index;
  }
  return 0;
}

function toSpan(raw: unknown, resource: Record<string, AttributeValue>, scope: Json): ReceivedSpan {
  const s = asRecord(raw);
  const status = asRecord(s['status']);
  const kindIndex = enumIndex(s['kind'], 'SPAN_KIND_', ['UNSPECIFIED', ...KINDS.slice(1)]);
  const statusIndex = enumIndex(status['code'], 'STATUS_CODE_', STATUS_CODES);
  const span: ReceivedSpan = {
    traceId: text(s['traceId']),
    spanId: text(s['spanId']),
    name: text(s['name']),
    kind: KINDS[kindIndex] ?? 'INTERNAL',
    attributes: keyValues(s['attributes']),
    links: asArray(s['links']).map((l) => {
      const link = asRecord(l);
      return {
        traceId: text(link['traceId']),
        spanId: text(link['spanId']),
        attributes: keyValues(link['attributes']),
      };
    }),
    events: asArray(s['events']).map((e) => {
      const event = asRecord(e);
      return { name: text(event['name']), attributes: keyValues(event['attributes']) };
    }),
    status: { code: STATUS_CODES[statusIndex] ?? 'UNSET' },
    scope: { name: asString(scope['name']), version: asString(scope['version']) },
    resource,
  };
  const parentSpanId = asString(s['parentSpanId']);
  if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
  const message = asString(status['message']);
  if (message !== undefined) span.status.message = message;
  const serviceName = resource['service.name'];
  if (typeof serviceName === 'string') span.serviceName = serviceName;
  const start = text(s['startTimeUnixNano']);
  if (start !== '') span.startTimeUnixNano = start;
  const end = text(s['endTimeUnixNano']);
  if (end !== '') span.endTimeUnixNano = end;
  return span;
}

/** The spans of one ExportTraceServiceRequest in its JSON encoding. */
export function parseOtlpTraceRequest(body: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of asArray(asRecord(body)['resourceSpans'])) {
    const resourceSpans = asRecord(rs);
    const resource = keyValues(asRecord(resourceSpans['resource'])['attributes']);
    for (const ss of asArray(resourceSpans['scopeSpans'])) {
      const scopeSpans = asRecord(ss);
      const scope = asRecord(scopeSpans['scope']);
      for (const raw of asArray(scopeSpans['spans'])) spans.push(toSpan(raw, resource, scope));
    }
  }
  return spans;
}

/** The spans whose parent is `span`. */
export function childrenOf(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId);
}

export interface SpanNode {
  span: ReceivedSpan;
  children: SpanNode[];
}

/** The spans as trees: roots are spans whose parent is not among `spans` (remote or none). */
export function spanTree(spans: readonly ReceivedSpan[]): SpanNode[] {
  const ids = new Set(spans.map((s) => `${s.traceId}/${s.spanId}`));
  const build = (span: ReceivedSpan): SpanNode => ({
    span,
    children: childrenOf(spans, span).map(build),
  });
  return spans
    .filter((s) => s.parentSpanId === undefined || !ids.has(`${s.traceId}/${s.parentSpanId}`))
    .map(build);
}

/** One line per span, indented by depth: for assertion messages. */
export function formatSpanTree(spans: readonly ReceivedSpan[]): string {
  const lines: string[] = [];
  const walk = (node: SpanNode, depth: number): void => {
    lines.push(
      `${'  '.repeat(depth)}${node.span.kind} ${node.span.name} (${node.span.serviceName ?? '?'})`,
    );
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of spanTree(spans)) walk(root, 0);
  return lines.join('\n');
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Over the limit the rest is read and dropped, so the 413 can still be sent.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Waiter {
  predicate: (spans: ReceivedSpan[]) => boolean;
  resolve: (spans: ReceivedSpan[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Starts a receiver on 127.0.0.1 at a port the OS chooses. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const refused: RefusedRequest[] = [];
  const waiters = new Set<Waiter>();

  const settle = (): void => {
    for (const waiter of waiters) {
      if (!waiter.predicate(received)) continue;
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve([...received]);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/traces') return send(res, 404, { message: `no OTLP signal at ${path}` });
    if (req.method !== 'POST') return send(res, 405, { message: 'POST only' });
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      req.resume();
      return send(res, 415, {
        message: `content type ${mediaType || '(none)'} is not supported: this test receiver takes OTLP JSON (application/json) only, protobuf is not supported`,
      });
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      req.resume();
      return send(res, 415, { message: `content encoding ${encoding} is not supported` });
    }
    const raw = await readBody(req);
    if (raw === undefined) return send(res, 413, { message: 'body too large' });
    let body: unknown;
    try {
      body = JSON.parse((encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
    } catch (error) {
      return send(res, 400, { message: `not OTLP JSON: ${(error as Error).message}` });
    }
    received.push(...parseOtlpTraceRequest(body));
    send(res, 200, {});
    settle();
  };

  const server = createServer((req, res) => {
    res.on('finish', () => {
      if (res.statusCode < 400) return;
      const entry: RefusedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        status: res.statusCode,
      };
      if (req.headers['content-type'] !== undefined)
        entry.contentType = req.headers['content-type'];
      refused.push(entry);
    });
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(error) });
      else res.destroy();
    });
  });
  const url = await listenLoopback(server);

  return {
    url,
    spans: () => [...received],
    refused: () => [...refused],
    waitForSpans(predicate, timeoutMs = DEFAULT_OTLP_WAIT_TIMEOUT_MS) {
      if (predicate(received)) return Promise.resolve([...received]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(
              new Error(
                `OTLP receiver: expected spans not received within ${timeoutMs} ms; got ${received.length}:\n${formatSpanTree(received)}`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    async close() {
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('OTLP receiver closed'));
      }
      waiters.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
