import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { DomainError } from '../common/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isSameOriginRequest, SAFE_METHODS } from './same-origin.js';
import { AuthService } from './auth.service.js';
import { BearerStrategy } from './bearer.strategy.js';
import { IS_PUBLIC, Roles } from './decorators.js';
import type { Principal } from './principal.js';

/**
 * The one global guard. A logged-in session wins; otherwise an `Authorization: Bearer` token
 * (header only); otherwise 401. Public routes still see a session principal when there is one.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
    private readonly bearer: BearerStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const targets = [context.getHandler(), context.getClass()];
    if (req.sessionAuth) {
      this.refuseCrossSiteWrite(req);
      req.user = this.auth.sessionPrincipal(req.sessionAuth);
    } else if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      // Public writes are logins and registrations: checked too, against login CSRF.
      this.refuseCrossSiteWrite(req);
      return true;
    } else {
      req.user = await this.authenticateBearer(
        req,
        context.switchToHttp().getResponse<Response>(),
      );
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

  /**
   * Runs passport-http-bearer. It is handed a request holding the Authorization header and
   * nothing else, so a token in the query string or body is never read.
   */
  private authenticateBearer(req: Request, res: Response): Promise<Principal> {
    const headerOnly = {
      headers: { authorization: req.headers.authorization },
    };
    return new Promise((resolve, reject) => {
      const authenticate = this.bearer
        .getPassportInstance()
        .authenticate(
          'bearer',
          { session: false },
          (err: unknown, user: Principal | false, info: unknown) => {
            if (err)
              return reject(
                err instanceof Error
                  ? err
                  : new Error('Bearer authentication failed'),
              );
            if (user) return resolve(user);
            const challenge = typeof info === 'string' ? info : '';
            reject(
              challenge.includes('invalid_token')
                ? new DomainError(
                    'invalid_token',
                    'The access token is unknown, expired or revoked',
                  )
                : new DomainError('unauthenticated', 'Authentication required'),
            );
          },
        ) as (
        req: unknown,
        res: Response,
        next: (err?: unknown) => void,
      ) => void;
      authenticate(headerOnly, res, (err?: unknown) =>
        reject(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }
}
