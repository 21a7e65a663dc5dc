import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Documentation of revocation and introspection requests; the body is read by the controller. */
export class TokenOperationDto {
  @ApiProperty({ description: 'An access token or a refresh token' })
  token!: string;

  @ApiPropertyOptional({ enum: ['access_token', 'refresh_token'] })
  token_type_hint?: string;
}

export class IntrospectionDto {
  @ApiProperty()
  active!: boolean;

  @ApiPropertyOptional({ enum: ['bearer', 'refresh_token'] })
  token_type?: string;

  @ApiPropertyOptional({ example: 'profile logins account' })
  scope?: string;

  @ApiPropertyOptional({ example: 'alice' })
  username?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The user id' })
  sub?: string;

  @ApiPropertyOptional({ description: 'Expiry, seconds since the epoch' })
  exp?: number;

  @ApiPropertyOptional({ description: 'Issue time, seconds since the epoch' })
  iat?: number;
}
