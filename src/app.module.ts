import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AccountModule } from './account/account.module.js';
import { AdminModule } from './admin/admin.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { AuthModule } from './auth/auth.module.js';
import { CredentialsModule } from './credentials/credentials.module.js';
import { AppConfig } from './infra/config/app-config.js';
import { ConfigModule } from './infra/config/config.module.js';
import { DbModule } from './infra/db/db.module.js';
import { BoundedValidationPipe } from './infra/http/bounded-validation.pipe.js';
import { ConnectionDrain } from './infra/http/connection-drain.js';
import { DomainError } from './infra/http/domain-error.js';
import { loggerOptions } from './infra/logging/logger-options.js';
import { LoggingModule } from './infra/logging/logging.module.js';
import { MetricsModule } from './infra/metrics/metrics.module.js';
import { RedisModule } from './infra/redis/redis.module.js';
import { LoginModule } from './login/login.module.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { OpsModule } from './ops/ops.module.js';
import { DomainErrorFilter } from './web/error.filter.js';
import { WebModule } from './web/web.module.js';

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
        CredentialsModule,
        AuthModule,
        LoginModule,
        OAuthModule,
        AccountModule,
        AdminModule,
        WebModule,
        OpsModule.forRoot(config),
      ],
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
