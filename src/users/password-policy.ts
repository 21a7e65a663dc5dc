import { dictionary } from '@zxcvbn-ts/language-common';
import { DomainError } from '../infra/http/domain-error.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './user.js';

// zxcvbn-ts's list of ~49,000 most common passwords, kept offline in the package.
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  dictionary['passwords-common'].map((p) => p.toLowerCase()),
);

export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORDS.has(password.toLowerCase());
}

/** The one password rule, for registration, password changes and the boot-time admin. */
export function assertPasswordPolicy(
  password: string,
  field = 'password',
): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new DomainError(
      'validation_failed',
      'The password does not meet the policy',
      {
        fields: [`${field} must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`],
      },
    );
  }
  // scrypt's HMAC pads short keys with zero bytes, so "pw" and "pw\0" would be one password.
  if (password.includes('\u0000')) {
    throw new DomainError(
      'validation_failed',
      'The password does not meet the policy',
      { fields: [`${field} must not contain NUL characters`] },
    );
  }
  if (isCommonPassword(password)) {
    throw new DomainError(
      'validation_failed',
      'The password does not meet the policy',
      {
        fields: [
          `${field} is one of the most common passwords; choose another`,
        ],
      },
    );
  }
}
