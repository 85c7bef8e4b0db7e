// The baseline: a bare Fastify route that returns the same JSON the trivial function returns.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/v1/functions/hello/invoke', async (request) => ({ greeting: `Hello, ${request.body?.name ?? 'world'}` }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${address}`);
