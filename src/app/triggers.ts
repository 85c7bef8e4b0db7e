// Triggers: the cron scheduler and the triggers (cron, webhooks) that start invocations.
import type { Invocations } from '../invocations/invocations.js';
import type { Registry } from '../registry/registry.js';
import { CronScheduler } from '../triggers/cron-scheduler.js';
import { Triggers } from '../triggers/triggers.js';
import type { AppContext } from './context.js';

export interface TriggersWiring {
  registry: Registry;
  invocations: Invocations;
  /** A trigger changed here: the other nodes are told (see cluster/cache-sync.ts). */
  changed: (id: string) => void;
}

export function createTriggers(ctx: AppContext, o: TriggersWiring): Triggers {
  const { config, stores, clock, log } = ctx;
  const triggerStore = stores.triggers;
  const cron = new CronScheduler({ store: triggerStore, invocations: o.invocations, clock, log });
  return new Triggers({
    store: triggerStore,
    registry: o.registry,
    invocations: o.invocations,
    cron,
    rotationOverlapMs: config.triggers.rotationOverlapMs,
    now: () => clock.now(),
    changed: o.changed,
  });
}
