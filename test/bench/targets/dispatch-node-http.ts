/**
 * http-server.ts target (A): the worker's way, plain node:http — the route check of
 * worker.ts, the bounded body read of dispatch.ts, writeHead with an explicit length.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { announce, exitOnSignals, urlOf } from './announce.js';
import {
  DISPATCH_BENCH_BODY_LIMIT,
  DISPATCH_BENCH_JSON_TYPE,
  DISPATCH_BENCH_PATH,
  answerDispatch,
} from './dispatch-shape.js';

/** Reads the body up to `limit` bytes; undefined when it is larger (as dispatch.ts does). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

const server = createServer((req, res) => {
  const path = req.url?.split('?', 1)[0];
  if (req.method !== 'POST' || path !== DISPATCH_BENCH_PATH) {
    res.writeHead(404).end();
    return;
  }
  void readBody(req, DISPATCH_BENCH_BODY_LIMIT).then(
    (text) => {
      const answer = text === undefined ? undefined : answerDispatch(text, (n) => header(req, n));
      if (answer === undefined) {
        res.writeHead(text === undefined ? 413 : 400).end();
        return;
      }
      res.writeHead(200, {
        'content-type': DISPATCH_BENCH_JSON_TYPE,
        'content-length': Buffer.byteLength(answer),
      });
      res.end(answer);
    },
    () => res.destroy(),
  );
});
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  exitOnSignals(() => new Promise<void>((resolve) => server.close(() => resolve())));
  announce({
    ready: true,
    url: urlOf(server, DISPATCH_BENCH_PATH),
    note: 'node:http createServer, bounded raw body read',
  });
});
