// wrk against several URLs at once (one wrk per URL, each with `connections`), for loads spread
// over the nodes of a cluster; each run's req/s, p50 and p99.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { duration, parseWrk } from './lib.mjs';

const run = promisify(execFile);

export async function wrkAt(urls, connections, script) {
  const outs = await Promise.all(urls.map((url) => run('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', script, url], { encoding: 'utf8' })));
  return outs.map(({ stdout }) => parseWrk(stdout));
}
