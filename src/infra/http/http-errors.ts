import type { DomainErrorCode } from './domain-error.js';

export const AUTH_REALM = 'auth';

interface HttpMapping {
  status: number;
  /** OAuth2 token-endpoint errors use RFC 6749 5.2 bodies: `{error, error_description}`. */
  oauth?: boolean;
  challenge?: string;
}

/** The one table from domain error codes to HTTP. */
export const HTTP_ERRORS: Record<DomainErrorCode, HttpMapping> = {
  invalid_request: { status: 400, oauth: true },
  unsupported_grant_type: { status: 400, oauth: true },
  invalid_grant: { status: 400, oauth: true },
  invalid_scope: { status: 400, oauth: true },
  wrong_password: { status: 400 },
  validation_failed: { status: 400 },
  username_taken: { status: 409 },
  form_already_sent: { status: 409 },
  invalid_link: { status: 400 },
  unauthenticated: { status: 401, challenge: `Bearer realm="${AUTH_REALM}"` },
  invalid_token: {
    status: 401,
    challenge: `Bearer realm="${AUTH_REALM}", error="invalid_token"`,
  },
  malformed_bearer: {
    status: 400,
    challenge: `Bearer realm="${AUTH_REALM}", error="invalid_request"`,
  },
  forbidden: { status: 403 },
  insufficient_scope: {
    status: 403,
    challenge: `Bearer realm="${AUTH_REALM}", error="insufficient_scope"`,
  },
  cross_site_request: { status: 403 },
  not_found: { status: 404 },
  too_many_attempts: { status: 429 },
  /** Password hashing is saturated: the request waited its longest for a turn. */
  overloaded: { status: 503 },
  store_unavailable: { status: 503 },
  database_unavailable: { status: 503 },
};
