import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Authenticated } from '../auth/authenticated.decorator.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';

/** /metrics on the main port, for admins only; registered only when METRICS_PORT is not set. */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics, text exposition format' })
  @ApiOkResponse({
    description:
      'Request latency by route and status, login outcomes, tokens issued and revoked, Redis health and command latency, process metrics',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
