// Reads a server-sent event stream (an invocation's events, a function's live logs) for the
// `wisp` commands: each event's name and data, until the stream ends.
import type { WispClient } from './wisp-client.js';

export interface StreamEvent {
  event: string;
  data: string;
}

/** Calls `each` for every event of the stream at `path`, in order, until it ends. */
export async function eachEvent(client: WispClient, path: string, each: (event: StreamEvent) => Promise<void> | void): Promise<void> {
  const response = await client.send('GET', path, { headers: { accept: 'text/event-stream' } });
  if (!response.ok || !response.body) throw await client.failure(response);
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const lines = block.split('\n');
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
      // Comment lines (": keep-alive") carry no data.
      if (data) await each({ event, data });
    }
  }
}
