import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateIf,
} from 'class-validator';
import { ListEventsQuery } from '../../account/dto/security-event.dto.js';
import { UserDto } from './user.dto.js';
import { ROLES, type Role } from '../../users/user.js';

/** The characters a username may hold (USERNAME_PATTERN), as a prefix of 1-64 of them. */
const USERNAME_CHARS = /^[A-Za-z0-9._@-]{1,64}$/;

/** A page of users (`limit`, `after`, as every keyset listing), optionally by username prefix. */
export class ListUsersQuery extends ListEventsQuery {
  @ApiPropertyOptional({
    description:
      'Only users whose username starts with this, case-insensitively (taken literally)',
    example: 'ali',
    pattern: USERNAME_CHARS.source,
  })
  @IsOptional()
  @IsString()
  @Matches(USERNAME_CHARS, {
    message: 'q must be 1-64 letters, digits, ".", "_", "@" or "-"',
  })
  q?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({
    type: [String],
    enum: ROLES,
    example: ['user', 'admin'],
  })
  // Not @IsOptional(): that lets `null` through, and `{"roles": null}` stored a user without a
  // roles array; after its next login every role check (`principal.roles.includes`) would throw: 500.
  @ValidateIf((_, value: unknown) => value !== undefined)
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional({
    example: true,
    description: 'A disabled account cannot log in; disabling ends its logins',
  })
  @ValidateIf((_, value: unknown) => value !== undefined)
  @IsBoolean()
  disabled?: boolean;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto], description: 'Oldest first' })
  items!: UserDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Pass as `after` for the next page; null on the last page. Opaque: do not parse it.',
    example: 'WyIyMDI2LTEyLTAxVDIwOjMwOjAwLjEyM1oiLCIwYjZmMmM4ZSJd',
  })
  nextCursor!: string | null;
}

export class EndedLoginsDto {
  @ApiProperty({ example: 2 })
  ended!: number;
}
