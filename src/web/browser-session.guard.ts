import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC } from '../auth/authenticated.decorator.js';
import type { Principal } from '../credentials/principal.js';
import { DomainError } from '../infra/http/domain-error.js';

/**
 * The account page acts for a person in a browser, by the session cookie (whose writes the
 * global guard has checked for the same origin). A bearer token is refused whatever its
 * scopes: none of them covers creating personal tokens or acting on every login at once.
 * Runs after the global guard, so an anonymous request has had its 401 already.
 */
@Injectable()
export class BrowserSessionGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets))
      return true;
    const principal = context.switchToHttp().getRequest<Request>().user as
      Principal | undefined;
    if (principal?.via !== 'session')
      throw new DomainError(
        'forbidden',
        'The account page works with a browser session only',
      );
    return true;
  }
}
