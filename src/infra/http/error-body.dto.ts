import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorBody {
  @ApiProperty({ example: 401 })
  statusCode!: number;

  @ApiProperty({ example: 'unauthenticated' })
  error!: string;

  @ApiProperty({ example: 'Authentication required' })
  message!: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['username must match /^[A-Za-z0-9._@-]{3,64}$/'],
  })
  details?: string[];
}

export class OAuthErrorBody {
  @ApiProperty({
    enum: ['invalid_request', 'unsupported_grant_type', 'invalid_grant'],
    example: 'invalid_grant',
  })
  error!: string;

  @ApiProperty({ example: 'Invalid username or password' })
  error_description!: string;
}
