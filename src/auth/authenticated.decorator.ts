import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiOAuth2,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Role } from '../users/user.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import type { Principal } from '../credentials/principal.js';
import type { Scope } from '../credentials/scopes.js';

export const IS_PUBLIC = 'auth:public';
export const SWAGGER_OAUTH2 = 'oauth2';
export const SWAGGER_COOKIE = 'session';
/** HTTP Basic for the resource servers of INTROSPECTION_CLIENTS. */
export const SWAGGER_INTROSPECTION = 'introspection';

/** Opts a route out of the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Roles a route requires, on top of being logged in. */
export const Roles = Reflector.createDecorator<Role[]>();

/**
 * The route acts on the caller's login (logout): a personal access token, which belongs to no
 * login, is refused.
 */
export const RequiresLogin = () => SetMetadata(REQUIRES_LOGIN, true);
export const REQUIRES_LOGIN = 'auth:requires-login';

/** The scope a bearer token needs for a route (a session has every scope its roles allow). */
export const RequiredScope = Reflector.createDecorator<Scope>();

/**
 * Marks a route as protected in the OpenAPI document (session cookie or OAuth2 bearer with
 * the scope) and, given a scope or roles, restricts it. The guard denies by default either
 * way; this keeps docs and rules in one place.
 */
export function Authenticated(options: { scope?: Scope; roles?: Role[] } = {}) {
  const { scope, roles = [] } = options;
  const decorators = [
    ApiOAuth2(scope ? [scope] : [], SWAGGER_OAUTH2),
    ApiCookieAuth(SWAGGER_COOKIE),
    ApiUnauthorizedResponse({
      description: 'No valid session or bearer token',
      type: ErrorBody,
    }),
    ApiServiceUnavailableResponse({
      description: 'The session store is unavailable',
      type: ErrorBody,
    }),
  ];
  if (scope) {
    decorators.push(
      RequiredScope(scope),
      ApiForbiddenResponse({
        description: `A bearer token needs scope "${scope}"${roles.length ? `; requires role: ${roles.join(', ')}` : ''}`,
        type: ErrorBody,
      }),
    );
  } else if (roles.length) {
    decorators.push(
      ApiForbiddenResponse({
        description: `Requires role: ${roles.join(', ')}`,
        type: ErrorBody,
      }),
    );
  }
  if (roles.length) decorators.push(Roles(roles));
  return applyDecorators(...decorators);
}

/** The authenticated caller; only on routes behind the guard. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    return ctx.switchToHttp().getRequest<Request>().user as Principal;
  },
);
