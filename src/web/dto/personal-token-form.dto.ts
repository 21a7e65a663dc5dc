import { Transform } from 'class-transformer';
import { IsOptional, Matches } from 'class-validator';
import type { Scope } from '../../credentials/scopes.js';
import { CreatePersonalTokenDto } from '../../account/dto/personal-token.dto.js';

/**
 * The account page's token form, with the API's rules. A form sends each ticked scope
 * checkbox as one `scopes` field (one field is a string, none is nothing) and the expiry
 * choice as text.
 */
export class PersonalTokenFormDto extends CreatePersonalTokenDto {
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? [value] : (value ?? []),
  )
  override scopes: Scope[] = [];

  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value)
      ? Number(value)
      : value,
  )
  override expiresInDays?: number = undefined;

  /** The id the page gave this rendering of the form: a second post of it creates nothing. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{22}$/, { message: 'formId is not a form id' })
  formId?: string = undefined;
}
