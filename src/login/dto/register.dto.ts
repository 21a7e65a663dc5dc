import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';
import { IsEmailAddress } from './email.dto.js';
import {
  EMAIL_MAX,
  PASSWORD_MAX,
  PASSWORD_MIN,
  USERNAME_PATTERN,
} from '../../users/user.js';

export class RegisterDto {
  @ApiProperty({
    example: 'alice',
    pattern: USERNAME_PATTERN.source,
    minLength: 3,
    maxLength: 64,
  })
  @IsString()
  @Matches(USERNAME_PATTERN, {
    message: 'username must be 3-64 letters, digits or "._@-"',
  })
  username!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
  })
  @IsString()
  @Length(PASSWORD_MIN, PASSWORD_MAX, {
    message: `password must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`,
  })
  password!: string;

  @ApiPropertyOptional({
    example: 'alice@example.com',
    maxLength: EMAIL_MAX,
    description:
      'Stored unverified; a link to verify it is mailed there. Never says whether another account claims it.',
  })
  // The login page's form sends an empty field when no address is given.
  @Transform(({ value }: { value: unknown }) =>
    value === '' ? undefined : value,
  )
  // Absent is fine; null is not an address.
  @ValidateIf((_, value) => value !== undefined)
  @IsEmailAddress()
  email?: string;
}
