import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, ValidateBy } from 'class-validator';
import { mailAddressProblem } from '../../infra/config/mail-address.js';
import { EMAIL_MAX } from '../../users/user.js';

/** One bare address (`name@example.com`): no display name, no second address, no line break. */
export function IsEmailAddress(): PropertyDecorator {
  return ValidateBy({
    name: 'isEmailAddress',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && mailAddressProblem(value) === undefined,
      defaultMessage: (args) => {
        const value: unknown = args?.value;
        const problem =
          typeof value === 'string'
            ? mailAddressProblem(value)
            : 'must be a string';
        return `${args?.property ?? 'email'} ${problem ?? 'is invalid'}`;
      },
    },
  });
}

export class ChangeEmailDto {
  @ApiProperty({ example: 'alice@example.com', maxLength: EMAIL_MAX })
  @IsEmailAddress()
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @Length(1, 1024)
  currentPassword!: string;
}

export class EmailLinkDto {
  @ApiProperty({
    description: 'The token from the mailed link',
    example: 'q3Zt…',
    maxLength: 64,
  })
  @IsString()
  @Length(1, 64)
  token!: string;
}

export class EmailStateDto {
  @ApiProperty({ example: 'alice@example.com', nullable: true, type: String })
  email!: string | null;

  @ApiProperty({ example: false })
  emailVerified!: boolean;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  verifiedAt!: string | null;
}

export class VerifiedEmailDto {
  @ApiProperty({ example: 'alice@example.com' })
  email!: string;

  @ApiProperty({ format: 'date-time' })
  verifiedAt!: string;
}
