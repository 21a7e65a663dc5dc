import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsServer } from './metrics.server.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics. METRICS=off: no /metrics and nothing instrumented. Otherwise /metrics
 * for admins on the main port, or, with METRICS_PORT, on that port only and without auth.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { metrics } = config;
    const ownPort = metrics.enabled && metrics.port !== undefined;
    return {
      module: MetricsModule,
      controllers: metrics.enabled && !ownPort ? [MetricsController] : [],
      providers: [MetricsService, ...(ownPort ? [MetricsServer] : [])],
      exports: [MetricsService],
    };
  }
}
