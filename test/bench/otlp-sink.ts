/**
 * The OTLP/HTTP endpoint of the tracing target (j): a node:http server in the bench process on
 * 127.0.0.1 (port from the OS) that answers every POST 200 `{}` (an empty, successful
 * ExportTraceServiceResponse) and discards the body. It only counts what arrived, so the
 * report can say spans were exported; decoding them would cost the load generator's CPU.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLoopback } from '@mcp-cluster/testkit';

/** What the sink received so far. */
export interface SinkCounts {
  /** POST requests received (one per batch the exporter sends). */
  readonly requests: number;
  /** Body bytes of those requests. */
  readonly bytes: number;
}

export interface OtlpSink {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  readonly url: string;
  counts(): SinkCounts;
  close(): Promise<void>;
}

const EMPTY_RESPONSE = '{}';

export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      req.resume();
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    // Counted once the whole body is in, so a batch cut off by a stopping target is not.
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      requests += 1;
      bytes += size;
      res.writeHead(200, { 'content-type': 'application/json' }).end(EMPTY_RESPONSE);
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    counts: () => ({ requests, bytes }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
