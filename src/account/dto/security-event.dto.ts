import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import {
  SECURITY_EVENT_TYPES,
  type SecurityEventType,
} from '../../events/security-event-types.js';

const CURSOR_EXAMPLE = 'WyIyMDI2LTEyLTAxVDIwOjMwOjAwLjEyM1oiLCIwYjZmMmM4ZSJd';

/** One event of the caller's own record. */
export class SecurityEventDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: SECURITY_EVENT_TYPES, example: 'login.succeeded' })
  type!: SecurityEventType;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Named from the user agent, as on the account page',
    example: 'Firefox on Windows',
  })
  device!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Public id of the login the event belongs to (as in GET /auth/sessions); never a session id or token',
  })
  loginId!: string | null;

  @ApiProperty({ description: 'True when an administrator acted' })
  byAdmin!: boolean;

  @ApiProperty({
    description:
      'How many times it happened: more than 1 only for login.throttled, counted per minute',
    example: 1,
  })
  count!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'A few facts of the event, by type (old and new roles, a personal token id, name and shown prefix, ...); never a secret',
    example: {},
  })
  details!: Record<string, unknown>;
}

/** One event of any account, for an administrator. */
export class AdminSecurityEventDto extends SecurityEventDto {
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'The account the event concerns',
  })
  userId!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'The administrator who acted, when not the account itself',
  })
  actorId!: string | null;
}

export class SecurityEventPageDto {
  @ApiProperty({ type: [SecurityEventDto], description: 'Newest first' })
  items!: SecurityEventDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Pass as `after` for the next (older) page; null on the last page. Opaque: do not parse it.',
    example: CURSOR_EXAMPLE,
  })
  nextCursor!: string | null;
}

export class AdminSecurityEventPageDto extends SecurityEventPageDto {
  @ApiProperty({ type: [AdminSecurityEventDto], description: 'Newest first' })
  declare items: AdminSecurityEventDto[];
}

/** A page of a keyset listing (events, and the admin's users): how many, and after which. */
export class ListEventsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({
    description:
      'The `nextCursor` of the previous page; absent for the first page',
    example: CURSOR_EXAMPLE,
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string;
}

/** The admin listing's filters: each narrows the events, and a value it does not know is a 400 naming it. */
export class ListAdminEventsQuery extends ListEventsQuery {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only the events concerning this account',
  })
  @IsOptional()
  @IsUUID('4', { message: 'user must be a user id (a UUID)' })
  user?: string;

  @ApiPropertyOptional({ enum: SECURITY_EVENT_TYPES })
  @IsOptional()
  @IsIn(SECURITY_EVENT_TYPES, {
    message: `type must be one of: ${SECURITY_EVENT_TYPES.join(', ')}`,
  })
  type?: SecurityEventType;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only events at or after this time',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'since must be a date-time (ISO 8601)' },
  )
  since?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only events before this time',
    example: '2026-12-02T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true },
    { message: 'until must be a date-time (ISO 8601)' },
  )
  until?: string;
}
