// Which methods a path takes, for `405 METHOD_NOT_ALLOWED` with an Allow header: a GET to the
// invoke route is a user who needs "use POST", not "no such route". Fastify's own router only
// answers "this method and path"; a second router over the same routes answers "any method".
import FindMyWay from 'find-my-way';
import { ROUTER_OPTIONS } from './problem.js';

/** What to say beside the Allow list where a method mix-up is common. */
const HINTS: Record<string, string> = {
  '/v1/functions/:name/invoke': 'use POST to invoke (curl -X POST, or curl -d \'{"some":"input"}\')',
  '/v1/functions/:name/invocations': 'use POST to submit an asynchronous invocation; GET /v1/invocations?function=NAME lists them',
  '/v1/functions/:name/instances': 'use POST to create an instance; GET /v1/instances?function=NAME lists them',
  '/v1/instances/:id/methods/:method': 'use POST to call a method, with its arguments as a JSON array',
};

const noop = () => undefined;

export class AllowedMethods {
  readonly #router = FindMyWay(ROUTER_OPTIONS);
  readonly #methods = new Set<string>();

  add(method: string, url: string): void {
    this.#methods.add(method);
    this.#router.on(method as FindMyWay.HTTPMethod, url, noop, { url });
  }

  /** The methods `path` takes (none when no route matches it), and a hint when there is one. */
  of(path: string): { methods: string[]; hint: string | undefined } {
    let hint: string | undefined;
    const methods = [...this.#methods].filter((method) => {
      const found = this.#router.find(method as FindMyWay.HTTPMethod, path);
      if (found) hint ??= HINTS[(found.store as { url: string }).url];
      return found !== null;
    });
    return { methods, hint };
  }
}
