// Prometheus metrics (prom-client) for GET /metrics. Each app has its own registry, so that
// apps side by side in one process (tests) count apart. A finished call adds to a plain Map
// (prom-client's labelled inc() hashes its labels each time, measurably slower on the invoke
// path); the Map and the services' gauges are read into prom-client only when scraped.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallSummary } from '../invocations/call-summary.js';
import type { InvocationRecord } from '../store/records.js';

/** What the gauges read at scrape time. */
export interface MetricSources {
  inFlight: () => number;
  poolTiers: () => { memoryMb: number; depth: number; threads: number; queued: number }[];
  instancesRunning: () => number;
  allocated: () => { cpu: number; memory: number };
  capacity: () => { cpu: number; memory: number };
}

/** Counts and run time of finished calls, by function, mode and outcome. */
interface CallTally {
  labels: { function: string; mode: string; outcome: string };
  count: number;
  seconds: number;
}

export class WispMetrics {
  readonly registry = new Registry();
  readonly #tallies = new Map<string, CallTally>();
  /** Pool threads retired for a fault (see runtime/worker-faults.ts), by the function blamed. */
  readonly #retired: Counter<'function'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const tallies = this.#tallies;
    collectDefaultMetrics({ register: this.registry });
    this.#retired = new Counter({
      name: 'wisp_pool_threads_retired_total',
      help: 'Pool threads stopped and replaced because code on them faulted outside its call (a late throw, a changed built-in, held memory), by the function blamed ("" when unknown)',
      labelNames: ['function'],
      registers,
    });
    // Counters rebuilt from the totals at each scrape: reset, then one inc per series.
    new Counter({
      name: 'wisp_calls_total',
      help: 'Finished function calls, by mode (sync, nested, async) and outcome (ok or the error code)',
      labelNames: ['function', 'mode', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const tally of tallies.values()) this.inc(tally.labels, tally.count);
      },
    });
    new Counter({
      name: 'wisp_call_seconds_total',
      help: 'Time finished calls ran, in seconds (an async invocation: its last attempt); divide by wisp_calls_total for the mean',
      labelNames: ['function', 'mode', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const tally of tallies.values()) this.inc(tally.labels, tally.seconds);
      },
    });
    new Gauge({
      name: 'wisp_calls_in_flight',
      help: 'Stateless calls running or queued for a thread now',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: 'wisp_pool_threads',
      help: 'Threads per pool tier (memory limit, nesting depth)',
      labelNames: ['memory_mb', 'depth'],
      registers,
      collect() {
        this.reset();
        for (const tier of sources.poolTiers()) this.set({ memory_mb: tier.memoryMb, depth: tier.depth }, tier.threads);
      },
    });
    new Gauge({
      name: 'wisp_pool_queued',
      help: 'Tasks waiting for a thread, per pool tier',
      labelNames: ['memory_mb', 'depth'],
      registers,
      collect() {
        this.reset();
        for (const tier of sources.poolTiers()) this.set({ memory_mb: tier.memoryMb, depth: tier.depth }, tier.queued);
      },
    });
    new Gauge({
      name: 'wisp_instances_running',
      help: 'Stateful instances holding a thread and resources',
      registers,
      collect() {
        this.set(sources.instancesRunning());
      },
    });
    new Gauge({
      name: 'wisp_node_resources',
      help: 'What instances may reserve on this node (cpu in millicores, memory in MiB), and what they hold',
      labelNames: ['resource', 'kind'],
      registers,
      collect() {
        const capacity = sources.capacity();
        const allocated = sources.allocated();
        this.set({ resource: 'cpu', kind: 'capacity' }, capacity.cpu);
        this.set({ resource: 'memory', kind: 'capacity' }, capacity.memory);
        this.set({ resource: 'cpu', kind: 'allocated' }, allocated.cpu);
        this.set({ resource: 'memory', kind: 'allocated' }, allocated.memory);
      },
    });
  }

  /** A synchronous or nested call ended. */
  threadRetired(fn: string | null): void {
    this.#retired.inc({ function: fn ?? '' });
  }

  callFinished(call: CallSummary): void {
    this.#count(call.function, call.mode, call.error?.code ?? 'ok', call.finishedAt - call.startedAt);
  }

  /** An asynchronous invocation reached its final state. */
  invocationFinished(record: InvocationRecord): void {
    const outcome = record.status === 'succeeded' ? 'ok' : (record.error?.code ?? record.status.toUpperCase());
    const ranMs = record.startedAt !== null && record.finishedAt !== null ? record.finishedAt - record.startedAt : null;
    this.#count(record.function, 'async', outcome, ranMs);
  }

  #count(fn: string, mode: string, outcome: string, ranMs: number | null): void {
    const key = `${fn}\n${mode}\n${outcome}`;
    let tally = this.#tallies.get(key);
    if (!tally) {
      tally = { labels: { function: fn, mode, outcome }, count: 0, seconds: 0 };
      this.#tallies.set(key, tally);
    }
    tally.count++;
    if (ranMs !== null) tally.seconds += ranMs / 1000;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
