import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { UserDto } from '../../auth/dto/token.dto.js';
import { ROLES, type Role } from '../../users/user.js';

export class ListUsersQuery {
  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Redis ZRANGE takes 64-bit integers: `offset=1e20` answered 500.
  @Max(Number.MAX_SAFE_INTEGER)
  offset: number = 0;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
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
  @ApiProperty({ type: [UserDto] })
  items!: UserDto[];

  @ApiProperty({ example: 42 })
  total!: number;

  @ApiProperty({ example: 0 })
  offset!: number;

  @ApiProperty({ example: 20 })
  limit!: number;
}

export class EndedLoginsDto {
  @ApiProperty({ example: 2 })
  ended!: number;
}
