import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import pretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config.js';

/** Levels at which pino-http's per-request log lines (level info) are written. */
const REQUEST_LOG_LEVELS = new Set(['info', 'debug', 'trace']);

export interface LoggingOptions {
  /** Whether the request logger is mounted. */
  requestLogs: boolean;
  pinoHttp: Options;
  /** Where records go; stdout when absent. */
  stream?: DestinationStream;
}

/**
 * Structured request logs that never carry credentials, cookies, queries or bodies. Above
 * `info` no request line would be written, so the request logger is not mounted at all and
 * costs nothing per request; errors are still logged by the error filter.
 *
 * `LOG_FORMAT=pretty` writes the same records as readable lines for a person at a terminal,
 * in this thread and synchronously, so that the last lines before a crash are not lost.
 * `destination` is stdout unless a test passes a stream.
 */
export function loggerOptions(
  config: AppConfig,
  destination?: DestinationStream,
): LoggingOptions {
  const options = {
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
  };
  return {
    requestLogs: REQUEST_LOG_LEVELS.has(config.logLevel),
    pinoHttp: options,
    stream:
      config.logFormat === 'pretty'
        ? pretty({
            destination: destination ?? 1,
            sync: true,
            translateTime: 'SYS:HH:MM:ss.l',
            ignore: 'pid,hostname',
          })
        : destination,
  };
}
