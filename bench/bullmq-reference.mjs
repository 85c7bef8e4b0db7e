// The async reference (issue 22): what a user would build instead of Wisp's durable queue, bare
// Fastify + BullMQ on Redis (the bench starts a redis-server with AOF fsync always, the same
// durability as Wisp's acknowledged writes). POST /v1/functions/hello/invocations adds a job and
// answers 202 {id} once Redis has it; a BullMQ worker in the same process runs the same trivial
// function. GET /stats: jobs completed so far. POST /bench/pause and /bench/resume stop and
// start the worker, so a backlog can be queued before the drain is timed (bench/drain.mjs).
// Settings: REDIS_URL, WORKER_CONCURRENCY (8).
import Fastify from 'fastify';
import { Queue, Worker } from 'bullmq';

const connection = { url: process.env.REDIS_URL };
const queue = new Queue('hello', { connection });
let completed = 0;
const worker = new Worker('hello', async (job) => ({ greeting: `Hello, ${job.data?.name ?? 'world'}` }), {
  connection,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 8),
});
worker.on('completed', () => completed++);
const app = Fastify({ logger: false });
app.post('/v1/functions/hello/invocations', async (request, reply) => {
  const job = await queue.add('hello', request.body, { removeOnComplete: true });
  return reply.code(202).send({ id: job.id });
});
app.get('/stats', async () => ({ completed }));
app.post('/bench/pause', async () => {
  await worker.pause();
  return { paused: true };
});
app.post('/bench/resume', async () => {
  worker.resume();
  return { paused: false };
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${address}`);
