import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../users/user.js';

/** No username or address is longer. */
const LOGIN_MAX = 254;

/**
 * A form's checkbox: the page sends a hidden `false` before the box's `true`, so an unticked
 * box still says false and a ticked one sends both (the last wins). JSON sends a boolean.
 */
function formBoolean({ value }: { value: unknown }): unknown {
  const last: unknown = Array.isArray(value) ? value.at(-1) : value;
  if (last === 'true' || last === 'on') return true;
  if (last === 'false') return false;
  return last;
}

export class ForgotPasswordDto {
  @ApiProperty({
    description: 'The username, or the verified address of the account',
    example: 'alice@example.com',
    maxLength: LOGIN_MAX,
  })
  @IsString()
  @Length(1, LOGIN_MAX)
  login!: string;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'The token of the mailed link' })
  @IsString()
  @Length(1, 128)
  token!: string;

  @ApiProperty({
    example: 'another long passphrase',
    minLength: PASSWORD_MIN,
    maxLength: PASSWORD_MAX,
  })
  @IsString()
  @Length(PASSWORD_MIN, PASSWORD_MAX, {
    message: `newPassword must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`,
  })
  newPassword!: string;

  @ApiPropertyOptional({
    description: "Also revoke the account's personal access tokens",
    default: true,
  })
  @IsOptional()
  @Transform(formBoolean)
  @IsBoolean()
  revokePersonalTokens?: boolean;
}
