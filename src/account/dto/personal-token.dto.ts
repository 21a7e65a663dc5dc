import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { SCOPE_NAMES, type Scope } from '../../credentials/scopes.js';
import { PERSONAL_TOKEN_DAYS } from '../../credentials/personal-tokens.service.js';

/** No control, format or unassigned characters: the name is shown back in lists and pages. */
const TOKEN_NAME = /^[^\p{C}]*[^\p{C}\s][^\p{C}]*$/u;

export class CreatePersonalTokenDto {
  @ApiProperty({ example: 'deploy script', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  @Matches(TOKEN_NAME, {
    message: 'name must not be blank or hold control characters',
  })
  name!: string;

  @ApiProperty({
    type: [String],
    enum: SCOPE_NAMES,
    example: ['profile'],
    description:
      'What the token may be used for; at most what the caller holds (admin for admins only)',
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(SCOPE_NAMES.length)
  @ArrayUnique()
  @IsIn(SCOPE_NAMES, { each: true })
  scopes!: Scope[];

  @ApiPropertyOptional({
    minimum: PERSONAL_TOKEN_DAYS.min,
    maximum: PERSONAL_TOKEN_DAYS.max,
    default: PERSONAL_TOKEN_DAYS.default,
  })
  // Not @IsOptional(): that would let null through.
  @ValidateIf((_, value: unknown) => value !== undefined)
  @IsInt()
  @Min(PERSONAL_TOKEN_DAYS.min)
  @Max(PERSONAL_TOKEN_DAYS.max)
  expiresInDays?: number;

  @ApiProperty({
    example: 'correct horse battery staple',
    description: 'Re-authentication: the account password',
  })
  @IsString()
  @Length(1, 1024)
  currentPassword!: string;
}

export class CreatedPersonalTokenDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'deploy script' })
  name!: string;

  @ApiProperty({
    example: 'sbat_4Rk1qJbV0wXcY7nZpL2eT9sUaHdM3gFo1B9xQe',
    description:
      'The secret, shown this once: `sbat_`, 32 random base62 characters and a 6-character CRC32 checksum. Send it as `Authorization: Bearer <token>`.',
  })
  token!: string;

  @ApiProperty({ type: [String], enum: SCOPE_NAMES, example: ['profile'] })
  scopes!: Scope[];

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}

export class PersonalTokenDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'deploy script' })
  name!: string;

  @ApiProperty({
    example: 'sbat_4Rk1',
    description: "The secret's first characters, to tell tokens apart",
  })
  prefix!: string;

  @ApiProperty({ type: [String], enum: SCOPE_NAMES, example: ['profile'] })
  scopes!: Scope[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Recorded at most once a minute; null when never used',
  })
  lastUsedAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}

export class RevokedPersonalTokensDto {
  @ApiProperty({ example: 2, description: 'How many live tokens were revoked' })
  revoked!: number;
}
