import { ApiProperty } from '@nestjs/swagger';

/** The bodies form-friendly endpoints read (RFC 6749 asks for forms; JSON is accepted too). */
export const FORM_AND_JSON = [
  'application/x-www-form-urlencoded',
  'application/json',
];

export class MessageDto {
  @ApiProperty({ example: 'Logged out' })
  message!: string;
}
