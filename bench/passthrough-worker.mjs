// Worker for piscina-passthrough.mjs: the same trivial function, returned as JSON text.
export default (input) => JSON.stringify({ greeting: `Hello, ${input?.name ?? 'world'}` });
