// The stateless reference: the same greeting Wisp's benchmark function returns, as a fetch worker.
export default {
  async fetch(request) {
    const input = await request.json();
    return Response.json({ greeting: `Hello, ${input?.name ?? 'world'}` });
  },
};
