import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { DomainError } from '../common/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isSameOriginRequest, SAFE_METHODS } from './same-origin.js';
import { AuthService } from './auth.service.js';
import { IS_PUBLIC, Roles } from './decorators.js';
import type { Principal } from './principal.js';

/**
 * The one global guard. A logged-in session wins; otherwise an `Authorization: Bearer` token
 * (header only); otherwise 401. Public routes still see a session principal when there is one.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('bearer') {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const targets = [context.getHandler(), context.getClass()];
    if (req.session?.auth) {
      this.refuseCrossSiteWrite(req);
      req.user = this.auth.sessionPrincipal(req.session.auth);
    } else if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      // Public writes are logins and registrations: checked too, against login CSRF.
      this.refuseCrossSiteWrite(req);
      return true;
    } else {
      await super.canActivate(context);
    }
    const roles = this.reflector.getAllAndOverride(Roles, targets);
    const principal = req.user as unknown as Principal;
    if (
      roles?.length &&
      !roles.some((role) => principal.roles.includes(role))
    ) {
      throw new DomainError('forbidden', `Requires role: ${roles.join(', ')}`);
    }
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

  /** Passport sees only the Authorization header, so tokens in the query or body are never read. */
  override getRequest(context: ExecutionContext): {
    headers: { authorization?: string };
  } {
    const req = context.switchToHttp().getRequest<Request>();
    return { headers: { authorization: req.headers.authorization } };
  }

  override handleRequest<T>(
    err: unknown,
    user: T,
    info: unknown,
    context: ExecutionContext,
  ): T {
    if (err instanceof Error) throw err;
    if (err) throw new Error('Bearer authentication failed');
    if (!user) {
      const challenge = typeof info === 'string' ? info : '';
      throw challenge.includes('invalid_token')
        ? new DomainError(
            'invalid_token',
            'The access token is unknown, expired or revoked',
          )
        : new DomainError('unauthenticated', 'Authentication required');
    }
    context.switchToHttp().getRequest<Request>().user = user;
    return user;
  }
}
