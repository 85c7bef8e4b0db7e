// A TypeScript JSON handler.
//   curl -X PUT localhost:8080/v1/functions/hello --data-binary @functions/hello.ts
//   curl localhost:8080/v1/functions/hello/invoke -d '{"name":"Ann"}'
export const config = { timeoutMs: 5000, memoryMb: 64 };

interface Input {
  name?: string;
}

export default async function hello(input: Input | null) {
  return { greeting: `Hello, ${input?.name ?? 'world'}` };
}
