import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';

/** Structured request logs that never carry credentials, cookies, queries or bodies. */
export function loggerOptions(config: AppConfig): Params {
  return {
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
