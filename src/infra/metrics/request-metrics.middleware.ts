import type { Request, RequestHandler, Response } from 'express';
import type { Histogram } from 'prom-client';

/** The route label of a request no route answered: one value, so scans of random URLs add no series. */
const UNMATCHED_ROUTE = 'unmatched';

const STARTED = Symbol('requestStartedAt');

interface TimedResponse extends Response {
  [STARTED]: number;
}

/**
 * Times each request from the first middleware to the last byte written. The route label is
 * the template Express matched (`/admin/users/:id`); Nest mounts every route on the app's own
 * router with its full path, so there is no base path to add. Nest also mounts route-bound
 * middleware as Express routes, such as the request logger's `{/*splat}`: a request that no
 * handler took is left with such a wildcard route, and counts as unmatched.
 */
export function requestMetrics(
  duration: Histogram<'method' | 'route' | 'status'>,
): RequestHandler {
  // One listener shared by every response (`this`), so a request allocates no closure.
  function observe(this: TimedResponse): void {
    const req = this.req as Request;
    const route = (req.route as { path?: unknown } | undefined)?.path;
    duration.observe(
      {
        method: req.method,
        route:
          typeof route === 'string' && !route.includes('*')
            ? route
            : UNMATCHED_ROUTE,
        status: this.statusCode,
      },
      (performance.now() - this[STARTED]) / 1000,
    );
  }
  return (_req, res, next) => {
    (res as TimedResponse)[STARTED] = performance.now();
    res.on('finish', observe);
    next();
  };
}
