import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AccountModule } from './account/account.module.js';
import { AdminModule } from './admin/admin.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { BoundedValidationPipe } from './common/bounded-validation.pipe.js';
import { ConnectionDrain } from './common/connection-drain.js';
import { DomainError } from './common/domain-error.js';
import { DomainErrorFilter } from './common/domain-error.filter.js';
import { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DbModule } from './db/db.module.js';
import { HealthController } from './health/health.controller.js';
import { loggerOptions } from './logging/logger-options.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RedisModule } from './redis/redis.module.js';
import { SessionModule } from './session/session.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(loggerOptions(config)),
        RedisModule,
        DbModule,
        MetricsModule.forRoot(config),
        SessionModule,
        AuthModule,
        AccountModule,
        AdminModule,
      ],
      controllers: [HealthController],
      providers: [
        ConnectionDrain,
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        {
          provide: APP_PIPE,
          useValue: new BoundedValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            exceptionFactory: (errors) =>
              new DomainError('validation_failed', 'The request is invalid', {
                fields: errors.flatMap((e) =>
                  Object.values(
                    e.constraints ?? {
                      [e.property]: `${e.property} is invalid`,
                    },
                  ),
                ),
              }),
          }),
        },
      ],
    };
  }
}
