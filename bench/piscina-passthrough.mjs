// The ceiling reference: bare Fastify handing the body to a Piscina worker and sending back
// its JSON text, with no platform around it (same thread count as Wisp's default tier).
import { availableParallelism } from 'node:os';
import Fastify from 'fastify';
import { Piscina } from 'piscina';

const worker = new URL('./passthrough-worker.mjs', import.meta.url);
const pool = new Piscina({ filename: worker.href, maxThreads: availableParallelism(), minThreads: availableParallelism() });
const app = Fastify({ logger: false });
app.post('/v1/functions/hello/invoke', async (request, reply) => reply.type('application/json').send(await pool.run(request.body)));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${address}`);
