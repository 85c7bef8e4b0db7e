// Load shedding (@fastify/under-pressure) and the per-token rate limit (@fastify/rate-limit),
// both answering with problem details and Retry-After. Registered before the routes, after the
// access gate, so a request is known by its token when it is counted.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../config.js';
import { WispError } from '../errors.js';
import { sendProblem } from './problem.js';

/** Answered even under pressure: health checks and scrapes are how operators see the pressure. */
const ALWAYS_SERVED = new Set(['/healthz', '/metrics']);

const PRESSURE_NAMES: Record<string, string> = {
  eventLoopDelay: 'the event loop is delayed',
  heapUsedBytes: 'the heap is past pressure.maxHeapUsedBytes',
  rssBytes: 'memory is past pressure.maxRssBytes',
};

export async function registerProtections(app: FastifyInstance, config: Config): Promise<void> {
  const { pressure } = config;
  const watched = pressure.maxEventLoopDelayMs !== null || pressure.maxHeapUsedBytes !== null || pressure.maxRssBytes !== null;
  if (watched) {
    await app.register(underPressure, {
      ...(pressure.maxEventLoopDelayMs !== null ? { maxEventLoopDelay: pressure.maxEventLoopDelayMs } : {}),
      ...(pressure.maxHeapUsedBytes !== null ? { maxHeapUsedBytes: pressure.maxHeapUsedBytes } : {}),
      ...(pressure.maxRssBytes !== null ? { maxRssBytes: pressure.maxRssBytes } : {}),
      pressureHandler: (request: FastifyRequest, reply, type) => {
        if (ALWAYS_SERVED.has(request.routeOptions.url ?? '')) return undefined;
        const why = PRESSURE_NAMES[type] ?? type;
        const error = new WispError('OVERLOADED', `Wisp is shedding load (${why}); retry after ${pressure.retryAfterSeconds} s`, { retryAfterSeconds: pressure.retryAfterSeconds });
        // Sent here, as under-pressure documents; returning nothing ends the request with it.
        sendProblem(reply, request, error);
        return undefined;
      },
    });
  }
  const limit = config.limits.rateLimit;
  if (limit) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.windowMs,
      keyGenerator: (request) => (request.wispToken ? `token:${request.wispToken.name}` : `ip:${request.ip}`),
      allowList: (request) => ALWAYS_SERVED.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (request, context) => {
        const who = request.wispToken ? `token "${request.wispToken.name}"` : `address ${request.ip}`;
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
        return new WispError('RATE_LIMITED', `${who} sent more than ${context.max} requests in ${limit.windowMs} ms; retry after ${seconds} s`, {
          retryAfterSeconds: seconds,
        });
      },
    });
  }
}
