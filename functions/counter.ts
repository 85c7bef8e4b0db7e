// A stateful class: each instance is an object with its own state on its own thread.
//   curl -X PUT localhost:8080/v1/functions/counter --data-binary @functions/counter.ts
//   curl localhost:8080/v1/functions/counter/instances -H 'content-type: application/json' -d '{"args":[10],"name":"visits"}'
//   curl localhost:8080/v1/instances/ID/methods/add -d '[1]'
// `this.ctx` (not an argument, so args stay exactly as sent) reaches other instances by handle.
interface InstanceContext {
  instanceId: string;
  instance(id: string): { call(method: string, ...args: unknown[]): Promise<unknown> };
}

export const config = { timeoutMs: 5000 };

export class Counter {
  declare ctx: InstanceContext;
  count: number;

  constructor(start = 0) {
    this.count = start;
  }

  add(n = 1) {
    this.count += n;
    return this.count;
  }

  get() {
    return this.count;
  }

  /** Adds this counter's count to another counter, by handle. */
  async giveTo(otherId: string) {
    return this.ctx.instance(otherId).call('add', this.count);
  }
}
