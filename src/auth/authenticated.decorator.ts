import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
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
import type { Principal } from '../credentials/principal.js';
import type { Scope } from '../credentials/scopes.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import type { Role } from '../users/user.js';

export const SWAGGER_OAUTH2 = 'oauth2';
export const SWAGGER_COOKIE = 'session';
/** HTTP Basic for the resource servers of INTROSPECTION_CLIENTS. */
export const SWAGGER_INTROSPECTION = 'introspection';

/**
 * What a route needs of its caller, in one object read by the global guard. A route without
 * any needs a session or a bearer token (default deny); a handler's options override its
 * controller's, field by field.
 */
export interface AuthOptions {
  /** Open to anyone; a logged-in session still gives the handler its principal. */
  public?: boolean;
  /** The scope a bearer token needs (a session has every scope its roles allow). */
  scope?: Scope;
  /** Roles the caller needs, any one of them. */
  roles?: Role[];
  /** The route acts on the caller's login: a personal access token, which belongs to none, is refused. */
  login?: boolean;
  /** The route acts for a person in a browser: only the session cookie is accepted. */
  browser?: boolean;
}

/** The guard's metadata; set only through `Public` and `Authenticated`. */
const AuthMetadata = Reflector.createDecorator<AuthOptions>();

/** Opts a route out of the global guard. */
export const Public = () => AuthMetadata({ public: true });

/**
 * States what a route needs (see AuthOptions) and marks it as protected in the OpenAPI
 * document (session cookie or OAuth2 bearer with the scope), so rules and docs stay together.
 */
export function Authenticated(options: Omit<AuthOptions, 'public'> = {}) {
  const { scope, roles = [] } = options;
  const decorators = [
    AuthMetadata(options),
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
  if (scope || roles.length)
    decorators.push(
      ApiForbiddenResponse({
        description: scope
          ? `A bearer token needs scope "${scope}"${roles.length ? `; requires role: ${roles.join(', ')}` : ''}`
          : `Requires role: ${roles.join(', ')}`,
        type: ErrorBody,
      }),
    );
  return applyDecorators(...decorators);
}

/** A route's options as the guard applies them: the handler's over its controller's. */
export function authOptionsOf(
  reflector: Reflector,
  targets: [
    handler: Parameters<Reflector['get']>[1],
    controller: Parameters<Reflector['get']>[1],
  ],
): AuthOptions {
  const [onHandler, onController] = targets.map((target) =>
    reflector.get(AuthMetadata, target),
  );
  return { ...onController, ...onHandler };
}

/** The authenticated caller; only on routes behind the guard. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    return ctx.switchToHttp().getRequest<Request>().user as Principal;
  },
);
