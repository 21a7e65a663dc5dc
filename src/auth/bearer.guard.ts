import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '../common/domain-error.js';
import type { Principal } from './principal.js';

/** @nestjs/passport's guard over the bearer strategy, with its outcomes as domain errors. */
@Injectable()
export class BearerGuard extends AuthGuard('bearer') {
  override handleRequest<T = Principal>(
    err: unknown,
    user: T | false,
    _info: unknown,
    _context: unknown,
    status?: unknown,
  ): T {
    // The strategy's own verdict on the token (invalid_token) or a store failure.
    if (err instanceof Error) throw err;
    if (err) throw new Error('Bearer authentication failed');
    if (user) return user;
    // passport-http-bearer fails with 400 for a malformed header, or a token also sent in the
    // query or body (RFC 6750 3.1: one method per request); other failures carry no token.
    if (status === 400)
      throw new DomainError(
        'malformed_bearer',
        'Send the access token once, as "Authorization: Bearer <token>"',
      );
    throw new DomainError('unauthenticated', 'Authentication required');
  }
}
