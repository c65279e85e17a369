/**
 * http-server.ts target (B): the same dispatch handling served by fastify 5 (logger off),
 * with the default JSON parser replaced by one that hands over the raw text, as the worker
 * reads it (the signature covers the body bytes; the worker parses with its own depth bound).
 */
import Fastify from 'fastify';
import { announce, exitOnSignals } from './announce.js';
import {
  DISPATCH_BENCH_BODY_LIMIT,
  DISPATCH_BENCH_JSON_TYPE,
  DISPATCH_BENCH_PATH,
  answerDispatch,
} from './dispatch-shape.js';

const app = Fastify({
  logger: false,
  bodyLimit: DISPATCH_BENCH_BODY_LIMIT,
  keepAliveTimeout: 65_000,
});
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
  done(null, body);
});

app.post(DISPATCH_BENCH_PATH, (request, reply) => {
  const text = typeof request.body === 'string' ? request.body : '';
  const answer = answerDispatch(text, (name) => {
    const v = request.headers[name];
    return typeof v === 'string' ? v : v?.[0];
  });
  if (answer === undefined) return reply.code(400).send();
  return reply.code(200).header('content-type', DISPATCH_BENCH_JSON_TYPE).send(answer);
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
exitOnSignals(() => app.close());
announce({
  ready: true,
  url: `${address}${DISPATCH_BENCH_PATH}`,
  note: 'fastify 5, logger off, raw-text application/json parser',
});
