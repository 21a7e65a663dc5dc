import {
  DynamicModule,
  Global,
  Inject,
  MiddlewareConsumer,
  Module,
  NestModule,
  RequestMethod,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { AppLogger, requestLogger } from './app-logger.js';
import type { LoggingOptions } from './logger-options.js';

class RequestLogging {
  constructor(
    readonly http: HttpLogger,
    readonly enabled: boolean,
  ) {}
}

/**
 * One pino logger per app: `AppLogger` (Nest's logger, given to `app.useLogger`) and the
 * pino-http request lines write through it.
 */
@Global()
@Module({})
export class LoggingModule implements NestModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    const http = pinoHttp(options.pinoHttp, options.stream);
    return {
      module: LoggingModule,
      providers: [
        { provide: AppLogger, useValue: new AppLogger(http.logger) },
        {
          provide: RequestLogging,
          useValue: new RequestLogging(http, options.requestLogs),
        },
      ],
      exports: [AppLogger],
    };
  }

  constructor(
    @Inject(RequestLogging) private readonly requests: RequestLogging,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    if (!this.requests.enabled) return;
    const { http } = this.requests;
    consumer
      .apply((req: Request, res: Response, next: NextFunction) => {
        http(req, res);
        requestLogger.run(req.log, next);
      })
      // `{/*splat}` also matches `/`, which `*splat` does not.
      .forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
