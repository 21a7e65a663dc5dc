import { DomainError } from '../common/domain-error.js';

export interface PasswordGrant {
  username: string;
  password: string;
}

type GrantField = 'grant_type' | 'username' | 'password';
const MAX_FIELD_LENGTH = 1024;

/**
 * Reads an RFC 6749 4.3 password grant from a parsed JSON or form body. Every value must be a
 * single string: a repeated parameter arrives as an array and a nested one (`username[$ne]=x`)
 * as an object, and both are refused as `invalid_request`.
 */
export function parsePasswordGrant(body: unknown): PasswordGrant {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError(
      'invalid_request',
      'The request body must be a form or JSON object',
    );
  }
  const fields = body as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string') {
      throw new DomainError(
        'invalid_request',
        `Parameter "${name}" must be a single string`,
      );
    }
    if (value.length > MAX_FIELD_LENGTH) {
      throw new DomainError(
        'invalid_request',
        `Parameter "${name}" is too long`,
      );
    }
  }
  const get = (name: GrantField) => fields[name] as string | undefined;
  const grantType = get('grant_type');
  if (grantType !== undefined && grantType !== '' && grantType !== 'password') {
    throw new DomainError(
      'unsupported_grant_type',
      'Only the password grant is supported',
    );
  }
  const username = get('username');
  const password = get('password');
  if (!username)
    throw new DomainError('invalid_request', 'Missing parameter: username');
  if (!password)
    throw new DomainError('invalid_request', 'Missing parameter: password');
  return { username, password };
}
