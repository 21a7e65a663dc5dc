import { Controller, Get, Inject, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { Public } from '../../auth/authenticated.decorator.js';
import { Database } from '../db/database.js';
import { REDIS } from '../redis/redis.constants.js';

type ComponentState = 'up' | 'down';

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
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly database: Database,
  ) {}

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
    // Both bounded by their clients' timeouts (1.5 s), checked at once.
    const [redis, database] = await Promise.all([
      state(this.redis.ping()),
      state(this.database.ping()),
    ]);
    const ok = redis === 'up' && database === 'up';
    if (!ok) res.status(503).set('Retry-After', RETRY_AFTER_SECONDS);
    return { status: ok ? 'ok' : 'error', redis, database };
  }
}

function state(check: Promise<unknown>): Promise<ComponentState> {
  return check.then(
    () => 'up',
    () => 'down',
  );
}
