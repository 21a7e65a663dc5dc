import { DynamicModule, Module } from '@nestjs/common';
import { HealthService } from '../infra/health/health.service.js';
import { AppConfig } from '../infra/config/app-config.js';
import { MailModule } from '../mail/mail.module.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/**
 * Routes for operators: /health (public, naming the mail backlog while there is one) and, unless METRICS=off or METRICS_PORT serves it
 * elsewhere without auth, /metrics for admins.
 */
@Module({ imports: [MailModule] })
export class OpsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { metrics } = config;
    const onMainPort = metrics.enabled && metrics.port === undefined;
    return {
      module: OpsModule,
      controllers: [
        HealthController,
        ...(onMainPort ? [MetricsController] : []),
      ],
      providers: [HealthService],
    };
  }
}
