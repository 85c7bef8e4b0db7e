// Live logs across a cluster: a follower of a function's logs on one node sees the lines of its
// calls on every node. A node with followers says so on the message bus (`log-follow`) at once
// and every few seconds while they stay; a node that heard it sends the lines of that function's
// calls there (`log`) until the interest lapses. Nobody follows: nothing is sent. Delivery is at
// most once, like the bus; a follower's stream says nothing of lines lost on the way.
import type { MessageBus } from '../store/message-bus.js';
import type { CallLog, FunctionLogFeed } from './function-log-feed.js';

/** How often a node says which functions it follows; an interest not heard again for three times this lapses. */
const ANNOUNCE_MS = 5_000;

export interface LogRelay {
  close(): void;
}

export async function startLogRelay(o: { bus: MessageBus; nodeId: string; feed: FunctionLogFeed; now: () => number; log: (message: string) => void }): Promise<LogRelay> {
  /** Functions followed on other nodes, each until when. */
  const interest = new Map<string, number>();
  const announce = (fn: string) =>
    void o.bus.publish({ kind: 'log-follow', name: fn, from: o.nodeId }).catch((err: unknown) => o.log(`cannot tell the other nodes that ${fn}'s logs are followed: ${String(err)}`));
  o.feed.relayTo(
    {
      wants: (fn) => {
        const until = interest.get(fn);
        if (until === undefined) return false;
        if (until > o.now()) return true;
        interest.delete(fn);
        return false;
      },
      send: (call) => void o.bus.publish({ kind: 'log', name: call.function, from: o.nodeId, data: call }).catch(() => undefined),
    },
    announce,
  );
  await o.bus.subscribe(
    (message) => {
      if (message.from === o.nodeId) return;
      if (message.kind === 'log-follow') interest.set(message.name, o.now() + 3 * ANNOUNCE_MS);
      else if (message.kind === 'log') o.feed.deliver(message.data as CallLog);
    },
    // Messages may have been missed: say again what this node follows.
    () => o.feed.followed().forEach(announce),
  );
  const timer = setInterval(() => o.feed.followed().forEach(announce), ANNOUNCE_MS);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
