// What every subsystem's factory (the files beside this one) is given by app.ts, the composition
// root: each factory builds one subsystem from the configuration and is handed the rest of Wisp
// it talks to, some of it as functions because it is built later (see createServices).
import type { Clock } from '../common/clock.js';
import type { Config } from '../config.js';
import type { Stores } from '../store/stores.js';

export interface AppContext {
  config: Config;
  stores: Stores;
  log: (message: string) => void;
  clock: Clock;
}
