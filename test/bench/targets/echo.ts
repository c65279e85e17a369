/** Target (e): a bare fastify POST route that echoes its JSON body, the ceiling. */
import Fastify from 'fastify';
import { announce, exitOnSignals } from './announce.js';

const app = Fastify({ logger: false });
app.post('/echo', (request, reply) => reply.send(request.body));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
exitOnSignals(() => app.close());
announce({
  ready: true,
  url: `${address}/echo`,
  note: 'fastify 5, logger off, default JSON parser',
});
