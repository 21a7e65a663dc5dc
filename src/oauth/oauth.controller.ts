import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiConsumes,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiOAuth2,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  Public,
  SWAGGER_COOKIE,
  SWAGGER_INTROSPECTION,
  SWAGGER_OAUTH2,
} from '../auth/authenticated.decorator.js';
import { Client } from '../auth/client.decorator.js';
import type { IssuedToken } from '../credentials/logins.service.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { formatScope } from '../credentials/scopes.js';
import { AppConfig } from '../infra/config/app-config.js';
import { LOGIN_PAGE_PATH, prefersHtml } from '../infra/http/browser.js';
import { DomainError } from '../infra/http/domain-error.js';
import { ErrorBody, OAuthErrorBody } from '../infra/http/error-body.dto.js';
import { clientOf } from '../infra/http/client.js';
import { FORM_AND_JSON } from '../infra/http/http-bodies.js';
import { loginSessionOf } from '../login/login-session.js';
import { LoginService } from '../login/login.service.js';
import { IntrospectionDto, TokenOperationDto } from './dto/oauth.dto.js';
import { TokenRequestDto, TokenResponseDto } from './dto/token.dto.js';
import { NO_STORE } from './oauth-http.js';
import { OAuthService, type TokenTypeHint } from './oauth.service.js';
import { parseTokenRequest } from './token-request.js';

const MAX_TOKEN_LENGTH = 1024;

/** `token` and `token_type_hint` of an RFC 7009 / RFC 7662 request; other parameters are ignored. */
function tokenParameters(body: unknown): {
  token: string;
  hint?: TokenTypeHint;
} {
  const fields = (
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? body
      : {}
  ) as Record<string, unknown>;
  const token = Object.hasOwn(fields, 'token') ? fields.token : undefined;
  if (
    typeof token !== 'string' ||
    token === '' ||
    token.length > MAX_TOKEN_LENGTH
  )
    throw new DomainError(
      'invalid_request',
      'Parameter "token" must be a single non-empty string',
    );
  const hint = Object.hasOwn(fields, 'token_type_hint')
    ? fields.token_type_hint
    : undefined;
  return {
    token,
    hint:
      hint === 'access_token' || hint === 'refresh_token' ? hint : undefined,
  };
}

/** application/x-www-form-urlencoded decoding; undefined when malformed. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * HTTP Basic client credentials, or undefined when the header is not Basic. RFC 6749 2.3.1 has
 * clients form-urlencode id and secret first (openid-client does: "-" arrives as "%2D"); a
 * secret without "%" or "+" reads the same either way.
 */
function basicCredentials(
  header: string | undefined,
): { id: string; secret: string } | undefined {
  const match = /^basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return id === undefined || secret === undefined ? undefined : { id, secret };
}

const BEARER = /^bearer ([A-Za-z0-9_-]{1,256})$/i;

@ApiTags('auth')
@Controller()
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    private readonly login: LoginService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Post('auth/token')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'OAuth2 password grant: log in, get a bearer token and a session cookie',
    description:
      'RFC 6749 4.3. Form or JSON. Client credentials are accepted and ignored. A request whose session is already logged in gets a further token for that login.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({
    description: 'RFC 6749 5.2 error',
    type: OAuthErrorBody,
  })
  @ApiTooManyRequestsResponse({
    description:
      'Too many failed logins for this account or address; see Retry-After',
    type: ErrorBody,
  })
  @ApiForbiddenResponse({
    description: 'Cross-site request refused',
    type: ErrorBody,
  })
  @ApiServiceUnavailableResponse({
    description:
      'A store is unavailable, or too many logins are waiting for a password check (`overloaded`); see Retry-After',
    type: ErrorBody,
  })
  async token(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const grant = parseTokenRequest(body);
    res.set(NO_STORE);
    if (grant.grant === 'refresh_token') {
      const refreshed = await this.oauth.refresh(
        grant.refreshToken,
        grant.scope,
        clientOf(req),
      );
      return {
        access_token: refreshed.accessToken,
        token_type: 'bearer' as const,
        expires_in: refreshed.expiresIn,
        refresh_token: refreshed.refreshToken,
        scope: refreshed.scope,
      };
    }
    const html = prefersHtml(req);
    const current = req.sessionAuth;
    if (current) {
      // A browser has its session already and would only drop a new token.
      if (html) return res.redirect(303, LOGIN_PAGE_PATH);
      const token = await this.oauth.tokenForSession(current, grant.scope);
      return { message: 'Already logged in', ...tokenResponse(token) };
    }
    // A browser form keeps the session cookie only: a refresh token would go nowhere.
    const token = await this.login.login(
      grant,
      clientOf(req),
      loginSessionOf(req),
      { refreshToken: !html },
    );
    if (html) return res.redirect(303, LOGIN_PAGE_PATH);
    return {
      ...tokenResponse(token),
      ...(token.refreshToken && { refresh_token: token.refreshToken }),
    };
  }

  @Public()
  @Post('auth/revoke')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke a token (RFC 7009)',
    description:
      'An access token ends alone; a refresh token ends its whole login. 200 for any token, unknown and already revoked ones included. Client credentials are accepted and ignored.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiBody({ type: TokenOperationDto })
  @ApiOkResponse({ description: 'Revoked, or nothing to revoke' })
  async revoke(
    @Body() body: unknown,
    @Client() client: ClientInfo,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Record<string, never>> {
    const { token, hint } = tokenParameters(body);
    res.set(NO_STORE);
    await this.oauth.revoke(token, hint, client);
    return {};
  }

  @Public()
  @Post('auth/introspect')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Introspect a token (RFC 7662)',
    description:
      'For admins (session, or bearer with the admin scope) and for resource servers listed in INTROSPECTION_CLIENTS (HTTP Basic). {"active":false} for anything not live.',
  })
  @ApiOAuth2(['admin'], SWAGGER_OAUTH2)
  @ApiCookieAuth(SWAGGER_COOKIE)
  @ApiBasicAuth(SWAGGER_INTROSPECTION)
  @ApiConsumes(...FORM_AND_JSON)
  @ApiBody({ type: TokenOperationDto })
  @ApiOkResponse({ type: IntrospectionDto })
  @ApiUnauthorizedResponse({
    description: 'Neither an admin nor a listed resource server',
    type: ErrorBody,
  })
  async introspect(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.set(NO_STORE);
    if (!(await this.oauth.mayIntrospect(this.caller(req))))
      throw new DomainError(
        'unauthenticated',
        'Introspection needs an admin or a listed resource server',
      );
    const { token, hint } = tokenParameters(body);
    return this.oauth.introspect(token, hint);
  }

  /** The session's principal, a bearer token's, or Basic client credentials. */
  private caller(req: Request) {
    if (req.user) return { principal: req.user as Principal };
    const header = req.headers.authorization;
    const bearer = BEARER.exec(header ?? '');
    if (bearer) return { bearer: bearer[1] };
    return { client: basicCredentials(header) };
  }

  @Public()
  @Get('.well-known/oauth-authorization-server')
  @ApiOperation({
    summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
  })
  @ApiOkResponse({ description: 'The metadata document' })
  discovery(@Req() req: Request) {
    return this.oauth.metadata(
      this.config.publicUrl ?? `${req.protocol}://${req.get('host') ?? ''}`,
    );
  }
}

function tokenResponse(token: IssuedToken) {
  return {
    access_token: token.accessToken,
    token_type: 'bearer' as const,
    expires_in: token.expiresIn,
    scope: formatScope(token.scope),
  };
}
