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
import { MailService } from '../mail/mail.service.js';

export class MailBacklogDto {
  @ApiProperty({
    example: 3,
    description:
      'Mails waiting to be sent or retried (every instance shares the outbox)',
  })
  queued!: number;

  @ApiProperty({ example: 42, description: 'Age of the oldest of them' })
  oldestSeconds!: number;
}

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

  @ApiProperty({
    type: MailBacklogDto,
    required: false,
    description:
      'Present while mail waits in the outbox (the mail server down, or slow). Mail never makes the service unhealthy: it is kept and retried',
  })
  mail?: MailBacklogDto;
}

const RETRY_AFTER_SECONDS = '1';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly stores: HealthService,
    private readonly mail: MailService,
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
    const { redis, database } = await this.stores.check();
    const ok = redis === 'up' && database === 'up';
    if (!ok) res.status(503).set('Retry-After', RETRY_AFTER_SECONDS);
    const backlog = this.mail.backlog();
    return {
      status: ok ? 'ok' : 'error',
      redis,
      database,
      ...(backlog && backlog.queued > 0 ? { mail: backlog } : {}),
    };
  }
}
