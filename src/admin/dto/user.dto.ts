import { ApiProperty } from '@nestjs/swagger';

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'alice' })
  username!: string;

  @ApiProperty({ type: [String], example: ['user'] })
  roles!: string[];

  @ApiProperty({ example: false })
  disabled!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({
    example: 'alice@example.com',
    nullable: true,
    type: String,
    description: 'Claimed or verified; null without one',
  })
  email!: string | null;

  @ApiProperty({ example: false })
  emailVerified!: boolean;
}
