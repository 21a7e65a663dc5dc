import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as Pino } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The pino-http logger of the request being served, so that lines written during it carry its id. */
export const requestLogger = new AsyncLocalStorage<Pino>();

/**
 * Nest's `LoggerService` over pino: every `new Logger('Auth').warn(...)` ends up here, as one
 * record with the name given to the Logger as `context`.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly root: Pino) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const logger = requestLogger.getStore() ?? this.root;
    const fields: Record<string, unknown> = {};
    // Nest's Logger passes its context last.
    if (params.length > 0) fields.context = params.pop();
    // Nest's own exception handlers call error(message, stack, context).
    if (
      level === 'error' &&
      typeof message === 'string' &&
      typeof params[0] === 'string' &&
      /\n\s*at /.test(params[0])
    ) {
      const err = new Error(message);
      err.stack = params[0];
      logger.error({ ...fields, err });
    } else if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, ...(params as []));
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...message }, ...(params as []));
    } else {
      logger[level](fields, String(message), ...params);
    }
  }
}
