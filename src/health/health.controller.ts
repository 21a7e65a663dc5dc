import { Controller, Get, Inject } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Redis } from 'ioredis';
import { Public } from '../auth/decorators.js';
import { DomainError } from '../common/domain-error.js';
import { ErrorBody } from '../common/error-body.dto.js';
import { REDIS } from '../redis/redis.constants.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Liveness and Redis reachability' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  @ApiServiceUnavailableResponse({
    description: 'Redis does not answer',
    type: ErrorBody,
  })
  async health() {
    try {
      await this.redis.ping();
    } catch {
      throw new DomainError('store_unavailable', 'Redis does not answer');
    }
    return { status: 'ok' };
  }
}
