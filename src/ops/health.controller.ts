import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/authenticated.decorator.js';
import {
  HealthService,
  type ComponentState,
} from '../infra/health/health.service.js';

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'error'], example: 'ok' })
  status!: 'ok' | 'error';

  @ApiProperty({
    enum: ['up', 'down'],
    description: 'Sessions, tokens, login records, throttle counters',
  })
  redis!: ComponentState;

  @ApiProperty({ enum: ['up', 'down'], description: 'Accounts' })
  database!: ComponentState;
}

const RETRY_AFTER_SECONDS = '1';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly stores: HealthService) {}

  @Public()
  @Get()
  @ApiOperation({
    summary: 'Liveness, and whether Redis and the database answer',
  })
  @ApiOkResponse({
    type: HealthDto,
    example: { status: 'ok', redis: 'up', database: 'up' },
  })
  @ApiServiceUnavailableResponse({
    type: HealthDto,
    description: 'Redis or the database does not answer; the body says which',
    example: { status: 'error', redis: 'up', database: 'down' },
  })
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const { redis, database } = await this.stores.check();
    const ok = redis === 'up' && database === 'up';
    if (!ok) res.status(503).set('Retry-After', RETRY_AFTER_SECONDS);
    return { status: ok ? 'ok' : 'error', redis, database };
  }
}
