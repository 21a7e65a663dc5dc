/**
 * Errors that services throw. They know nothing of HTTP; `DomainErrorFilter` maps each code
 * to a status, body and headers.
 */
export type DomainErrorCode =
  | 'invalid_request'
  | 'unsupported_grant_type'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'insufficient_scope'
  | 'wrong_password'
  | 'validation_failed'
  | 'username_taken'
  | 'email_taken'
  | 'invalid_link'
  | 'form_already_sent'
  /** A mailed one-time link that is unknown, used, expired or superseded: all the same. */
  | 'unauthenticated'
  | 'invalid_token'
  | 'malformed_bearer'
  | 'forbidden'
  | 'cross_site_request'
  | 'not_found'
  | 'too_many_attempts'
  | 'overloaded'
  | 'store_unavailable'
  | 'database_unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra facts the filter may need, such as `retryAfterSeconds` or field errors. */
    readonly details: {
      retryAfterSeconds?: number;
      fields?: string[];
      /** For `insufficient_scope`: the scope the request needed (RFC 6750 3.1). */
      scope?: string;
    } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
