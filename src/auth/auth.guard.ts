import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { CredentialResolver } from '../credentials/credential-resolver.js';
import type { Principal } from '../credentials/principal.js';
import { AppConfig } from '../infra/config/app-config.js';
import { DomainError } from '../infra/http/domain-error.js';
import { authOptionsOf, type AuthOptions } from './authenticated.decorator.js';
import { runBearerStrategy } from './bearer-attempt.js';
import { BearerStrategy } from './bearer.strategy.js';
import { isSameOriginRequest, SAFE_METHODS } from './same-origin.js';

/**
 * Only a request whose Authorization header has the Bearer scheme reaches passport-http-bearer,
 * which then takes the token from that header or refuses it (and a second one in the query or
 * body): without such a header, it would read `access_token` from the query string or body.
 */
const BEARER_HEADER = /^bearer /i;

/**
 * The one global guard. A logged-in session wins; otherwise an `Authorization: Bearer` token
 * (header only); otherwise 401. Public routes still see a session principal when there is one.
 * Then the route's options (one `@Authenticated({...})` object) are checked.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialResolver,
    private readonly config: AppConfig,
    private readonly bearer: BearerStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const options = authOptionsOf(this.reflector, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (req.sessionAuth) {
      this.refuseCrossSiteWrite(req);
      req.user = this.credentials.fromSession(req.sessionAuth);
    } else if (options.public) {
      // Public writes are logins and registrations: checked too, against login CSRF.
      this.refuseCrossSiteWrite(req);
      return true;
    } else if (!BEARER_HEADER.test(req.headers.authorization ?? '')) {
      throw new DomainError('unauthenticated', 'Authentication required');
    } else {
      req.user = await runBearerStrategy<Principal>(this.bearer, req);
    }
    if (!options.public) refuse(req.user as Principal, options);
    return true;
  }

  /** Cookie-authenticated writes must come from this service's own pages (or an allowed origin). */
  private refuseCrossSiteWrite(req: Request): void {
    if (SAFE_METHODS.has(req.method)) return;
    const sameOrigin = isSameOriginRequest({
      secFetchSite: req.get('sec-fetch-site'),
      origin: req.get('origin'),
      ownOrigin: `${req.protocol}://${req.get('host') ?? ''}`,
      allowedOrigins: this.config.allowedOrigins,
    });
    if (!sameOrigin)
      throw new DomainError('cross_site_request', 'Cross-site request refused');
  }
}

/** Throws when the principal does not meet the route's options. */
function refuse(principal: Principal, options: AuthOptions): void {
  const { roles, scope } = options;
  if (roles?.length && !roles.some((role) => principal.roles.includes(role)))
    throw new DomainError('forbidden', `Requires role: ${roles.join(', ')}`);
  if (options.login && principal.via === 'personal_token')
    throw new DomainError(
      'forbidden',
      'A personal access token belongs to no login; revoke it with DELETE /auth/personal-tokens/:id',
    );
  if (scope && !principal.scopes.includes(scope))
    throw new DomainError(
      'insufficient_scope',
      `The access token lacks scope "${scope}"`,
      { scope },
    );
  if (options.browser && principal.via !== 'session')
    throw new DomainError(
      'forbidden',
      'The account page works with a browser session only',
    );
}
