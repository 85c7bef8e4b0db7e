// The instance-call baseline: bare Fastify and one pinned worker_threads counter answering
// postMessage, nothing else (no mailbox bookkeeping, no deadlines, no error mapping).
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';

const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   let count = 0;
   parentPort.on('message', ({ seq, args }) => { count += args[0]; parentPort.postMessage({ seq, json: JSON.stringify(count) }); });`,
  { eval: true },
);
const waiting = new Map();
let nextSeq = 0;
worker.on('message', ({ seq, json }) => {
  waiting.get(seq)(json);
  waiting.delete(seq);
});

const app = Fastify({ logger: false });
app.post('/v1/instances/:id/methods/:method', (request, reply) => {
  const seq = ++nextSeq;
  waiting.set(seq, (json) => reply.type('application/json').send(json));
  worker.postMessage({ seq, args: request.body });
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${address}`);
