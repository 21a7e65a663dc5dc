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
import { ErrorBody } from '../common/error-body.dto.js';
import type { Principal } from './principal.js';

export const IS_PUBLIC = 'auth:public';
export const SWAGGER_OAUTH2 = 'oauth2';
export const SWAGGER_COOKIE = 'session';

/** Opts a route out of the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Roles a route requires, on top of being logged in. */
export const Roles = Reflector.createDecorator<Role[]>();

/**
 * Marks a route as protected in the OpenAPI document (session cookie or OAuth2 bearer) and,
 * given roles, restricts it. The guard denies by default either way; this keeps docs and rules in one place.
 */
export function Authenticated(...roles: Role[]) {
  const decorators = [
    ApiOAuth2([], SWAGGER_OAUTH2),
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
  if (roles.length) {
    decorators.push(
      Roles(roles),
      ApiForbiddenResponse({
        description: `Requires role: ${roles.join(', ')}`,
        type: ErrorBody,
      }),
    );
  }
  return applyDecorators(...decorators);
}

/** The authenticated caller; only on routes behind the guard. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    return ctx.switchToHttp().getRequest<Request>().user as Principal;
  },
);
