import { ApiProperty } from '@nestjs/swagger';

export class LoginDto {
  @ApiProperty({
    description: 'Public id of the login; never a session id or token',
  })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  lastSeenAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'Absolute end of the login',
  })
  expiresAt!: string;

  @ApiProperty()
  userAgent!: string;

  @ApiProperty({ example: '127.0.0.1' })
  ip!: string;

  @ApiProperty({
    example: 'profile logins account',
    description: 'Scopes granted at login',
  })
  scope!: string;

  @ApiProperty({ description: 'True for the login making this request' })
  current!: boolean;
}
