import { DomainError } from '../infra/http/domain-error.js';
import { parseScope, type Scope } from '../credentials/scopes.js';

export interface PasswordGrant {
  grant: 'password';
  username: string;
  password: string;
  /** Undefined when the client asked for no particular scope. */
  scope?: Scope[];
}

interface RefreshGrant {
  grant: 'refresh_token';
  refreshToken: string;
  scope?: Scope[];
}

export type TokenRequest = PasswordGrant | RefreshGrant;

const MAX_FIELD_LENGTH = 1024;

/**
 * Reads an RFC 6749 token request (4.3 password grant, 6 refresh) from a parsed JSON or form
 * body. Every value must be a single string: a repeated parameter arrives as an array and a
 * nested one (`username[$ne]=x`) as an object, and both are refused as `invalid_request`.
 * An omitted or empty grant_type is the password grant.
 */
export function parseTokenRequest(body: unknown): TokenRequest {
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
  const get = (name: string) =>
    Object.hasOwn(fields, name) ? (fields[name] as string) : undefined;
  const grantType = get('grant_type');
  if (grantType === 'refresh_token') {
    const refreshToken = get('refresh_token');
    if (!refreshToken)
      throw new DomainError(
        'invalid_request',
        'Missing parameter: refresh_token',
      );
    return {
      grant: 'refresh_token',
      refreshToken,
      scope: parseScope(get('scope')),
    };
  }
  if (grantType !== undefined && grantType !== '' && grantType !== 'password') {
    throw new DomainError(
      'unsupported_grant_type',
      'Only the password and refresh_token grants are supported',
    );
  }
  const username = get('username');
  const password = get('password');
  if (!username)
    throw new DomainError('invalid_request', 'Missing parameter: username');
  if (!password)
    throw new DomainError('invalid_request', 'Missing parameter: password');
  return {
    grant: 'password',
    username,
    password,
    scope: parseScope(get('scope')),
  };
}
