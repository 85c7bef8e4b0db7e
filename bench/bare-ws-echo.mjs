// The WebSocket baseline: bare Fastify with @fastify/websocket echoing every frame, on the route
// Wisp serves instance sockets at, nothing else (no instance, no thread hop, no ordering).
import Fastify from 'fastify';
import websocket from '@fastify/websocket';

const app = Fastify({ logger: false });
await app.register(websocket);
app.get('/v1/instances/:id/ws', { websocket: true }, (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${address}`);
