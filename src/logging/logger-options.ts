import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';

/** Levels at which pino-http's per-request log lines (level info) are written. */
const REQUEST_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

/**
 * Structured request logs that never carry credentials, cookies, queries or bodies. Above
 * `info` no request line would be written, so the request logger is not mounted at all and
 * costs nothing per request; errors are still logged by the error filter.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    forRoutes: REQUEST_LOG_LEVELS.has(config.logLevel) ? undefined : [],
    pinoHttp: {
      level: config.logLevel,
      redact: {
        paths: ['res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      serializers: {
        // Only the path and user agent: the query, headers and body may carry credentials.
        req: (req: {
          id: unknown;
          method: string;
          url: string;
          headers: Record<string, unknown>;
        }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
          userAgent: req.headers['user-agent'],
        }),
      },
    },
  };
}
