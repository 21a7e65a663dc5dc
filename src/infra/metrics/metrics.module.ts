import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { MetricsServer } from './metrics.server.js';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus metrics. METRICS=off: nothing instrumented. With METRICS_PORT, /metrics is served
 * on that port only and without auth; otherwise the ops module serves it to admins on the main port.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { metrics } = config;
    const ownPort = metrics.enabled && metrics.port !== undefined;
    return {
      module: MetricsModule,
      providers: [MetricsService, ...(ownPort ? [MetricsServer] : [])],
      exports: [MetricsService],
    };
  }
}
