import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import {
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
}
