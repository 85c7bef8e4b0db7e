// Which node this is: WISP_NODE_ID, else hostname-port (design §5), else, for a node on a port
// picked at random (port 0, as tests and the launcher may do), an id made once and kept in its
// data dir, so that the node that starts again on that data dir is the same node.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A hostname made fit for a node id (letters, digits, dot, dash, underscore). */
const safeHost = () => hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40) || 'node';

export function nodeIdOf(settings: { nodeId: string | null; port: number; dataDir: string }): string {
  if (settings.nodeId !== null) return settings.nodeId;
  if (settings.port !== 0) return `${safeHost()}-${settings.port}`;
  const file = join(settings.dataDir, 'node-id');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  } catch {
    // None yet: made below.
  }
  const made = `${safeHost()}-${randomBytes(4).toString('hex')}`;
  writeFileSync(file, `${made}\n`, { mode: 0o600 });
  return made;
}

/** The URL peers reach a node at: WISP_ADVERTISE_URL, else its listening address (a wildcard host named by the hostname). */
export function advertisedUrl(advertiseUrl: string | null, host: string, port: number): string {
  if (advertiseUrl !== null) return advertiseUrl.replace(/\/$/, '');
  const reachable = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}
