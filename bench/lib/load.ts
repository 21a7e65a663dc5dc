import autocannon from 'autocannon';

/** One kind of request the load generator repeats. */
export interface Target {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** JSON, sent with Content-Type: application/json. */
  json?: object;
}

/** How hard and how long to drive a target: a duration or a fixed number of requests. */
export interface LoadShape {
  connections: number;
  durationSeconds?: number;
  amount?: number;
  /** Requests per second over all connections; unset means as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  completed: number;
  /** 2xx answers per second: a login shed with 503 is not a login. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  /** 503 answers: a login the service shed rather than queue past its wait limit. */
  shed: number;
  errors: number;
}

interface Run {
  result: autocannon.Result;
  /** performance.now() when the run started, and at its last response. */
  startedMs: number;
  lastResponseMs: number;
}

function run(options: autocannon.Options): Promise<Run> {
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    let lastResponseMs = startedMs;
    const instance = autocannon(options, (err: unknown, result) =>
      err
        ? reject(
            err instanceof Error
              ? err
              : new Error('autocannon failed', { cause: err }),
          )
        : resolve({ result, startedMs, lastResponseMs }),
    );
    instance.on('response', () => {
      lastResponseMs = performance.now();
    });
  });
}

export async function drive(
  target: Target,
  shape: LoadShape,
): Promise<LoadResult> {
  const headers = { ...target.headers };
  if (target.json) headers['content-type'] = 'application/json';
  const { result, startedMs, lastResponseMs } = await run({
    url: target.url,
    method: target.method ?? 'GET',
    headers,
    ...(target.json && { body: JSON.stringify(target.json) }),
    connections: shape.connections,
    // autocannon fills in defaults with Object.assign: an explicit undefined would win.
    ...(shape.durationSeconds && { duration: shape.durationSeconds }),
    ...(shape.amount && { amount: shape.amount }),
    ...(shape.overallRate && { overallRate: shape.overallRate }),
    // Logins wait for scrypt behind other logins; the 10 s default is too tight for a storm.
    timeout: 30,
  });
  const completed = result.requests.total;
  const succeeded = result['2xx'];
  // Up to the last response rather than to the end of the run: a login takes over a second,
  // so the logins cut off at the end would otherwise cost a 5 s round several percent, at
  // random. Every completed request did all its work inside this span.
  const seconds = (lastResponseMs - startedMs) / 1000;
  return {
    completed,
    requestsPerSecond: seconds > 0 ? succeeded / seconds : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    shed: result.statusCodeStats?.['503']?.count ?? 0,
    errors: result.errors,
  };
}

/**
 * A benchmark of failing requests measures the error path: stop rather than report it.
 * With `allowShed` (logins), 503s are a defined outcome, counted and reported instead.
 */
export function expectAllSucceeded(
  what: string,
  result: LoadResult,
  { allowShed = false } = {},
): void {
  const failed = result.non2xx - (allowShed ? result.shed : 0);
  if (failed === 0 && result.errors === 0) return;
  throw new Error(
    `${what}: ${result.non2xx} non-2xx answers (${result.shed} of them 503) and ${result.errors} errors out of ${result.completed} requests`,
  );
}
