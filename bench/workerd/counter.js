// The stateful reference: a Durable Object counter, one object ("x") for every request, as
// Wisp's benchmark calls one instance. POST [n] adds n and answers the new count.
export class Counter {
  constructor(state) {
    this.state = state;
    this.count = 0;
  }
  async fetch(request) {
    const [n] = await request.json();
    this.count += n;
    return Response.json(this.count);
  }
}

export default {
  async fetch(request, env) {
    const stub = env.COUNTER.get(env.COUNTER.idFromName('x'));
    return stub.fetch(request);
  },
};
