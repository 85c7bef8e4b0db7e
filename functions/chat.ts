// A chat room: clients hold WebSockets to one instance, and each line goes to every one of them.
//   curl -X PUT localhost:8080/v1/functions/chat --data-binary @functions/chat.ts
//   curl localhost:8080/v1/functions/chat/instances -H 'content-type: application/json' -d '{"name":"lobby","idleSuspendMs":60000}'
//   then connect to ws://localhost:8080/v1/instances/ID/ws (add ?token=… when Wisp has tokens)
// Frames reach webSocketMessage one at a time, in order with the room's method calls. With
// idleSuspendMs, a room nobody is connected to hibernates (its lines are kept in its checkpoint)
// and the next socket or call wakes it.
interface Socket {
  readonly id: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
interface RoomContext {
  sockets(): Socket[];
  broadcast(data: string, except?: Socket): number;
}

export const config = { timeoutMs: 5000 };

export class ChatRoom {
  declare ctx: RoomContext;
  lines: { from: string; text: string }[] = [];

  webSocketOpen(socket: Socket) {
    socket.send(JSON.stringify({ joined: socket.id, present: this.ctx.sockets().length, recent: this.lines.slice(-10) }));
  }

  webSocketMessage(socket: Socket, data: string | ArrayBuffer) {
    if (typeof data !== 'string') return socket.close(4400, 'this room takes text frames');
    const line = { from: socket.id, text: data.slice(0, 1000) };
    this.lines.push(line);
    if (this.lines.length > 100) this.lines.shift();
    this.ctx.broadcast(JSON.stringify(line));
  }

  /** A message from outside (a webhook, a cron job) to everyone in the room. */
  announce(text: string) {
    return this.ctx.broadcast(JSON.stringify({ from: 'announcement', text }));
  }

  history() {
    return this.lines;
  }
}
