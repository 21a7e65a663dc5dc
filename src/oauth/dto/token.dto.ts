import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Documentation of the token request; the body itself is read by `parseTokenRequest`. */
export class TokenRequestDto {
  @ApiPropertyOptional({
    enum: ['password', 'refresh_token'],
    description: 'May be omitted for the password grant',
  })
  grant_type?: string;

  @ApiPropertyOptional({
    example: 'alice',
    description: 'Password grant',
  })
  username?: string;

  @ApiPropertyOptional({
    example: 'correct horse battery staple',
    description: 'Password grant',
  })
  password?: string;

  @ApiPropertyOptional({ description: 'Refresh grant: the refresh token' })
  refresh_token?: string;

  @ApiPropertyOptional({
    example: 'profile logins',
    description:
      'Space-separated scopes (profile, logins, account, admin); omitted means every scope the account may hold. A refresh may narrow, never widen.',
  })
  scope?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored (public clients)' })
  client_id?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored (public clients)' })
  client_secret?: string;
}

export class TokenResponseDto {
  @ApiProperty({
    description: 'Opaque bearer token, 256 random bits, base64url',
  })
  access_token!: string;

  @ApiProperty({ enum: ['bearer'] })
  token_type!: 'bearer';

  @ApiProperty({
    example: 3600,
    description: 'Seconds until the token expires',
  })
  expires_in!: number;

  @ApiPropertyOptional({
    description:
      'Opaque, 256 random bits; rotated on every refresh. Absent for further tokens of a logged-in session.',
  })
  refresh_token?: string;

  @ApiProperty({ example: 'profile logins account' })
  scope!: string;

  @ApiPropertyOptional({ example: 'Already logged in' })
  message?: string;
}
