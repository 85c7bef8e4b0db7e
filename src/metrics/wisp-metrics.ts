// Prometheus metrics (prom-client) for GET /metrics. Each app has its own registry, so that
// apps side by side in one process (tests) count apart. Counters move once per finished call;
// gauges are read from the services only when scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 900];

export class WispMetrics {
  readonly registry = new Registry();
  readonly #calls: Counter<'function' | 'mode' | 'outcome'>;
  readonly #duration: Histogram<'function' | 'mode'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#calls = new Counter({
      name: 'wisp_calls_total',
      help: 'Finished function calls, by mode (sync, nested, async) and outcome (ok or the error code)',
      labelNames: ['function', 'mode', 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'wisp_call_duration_seconds',
      help: 'How long finished calls ran (an async invocation: its last attempt)',
      labelNames: ['function', 'mode'],
      buckets: SECONDS_BUCKETS,
      registers,
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
    this.#calls.inc({ function: fn, mode, outcome });
    if (ranMs !== null) this.#duration.observe({ function: fn, mode }, ranMs / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
