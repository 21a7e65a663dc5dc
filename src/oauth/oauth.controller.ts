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
  ApiBasicAuth,
  ApiBody,
  ApiCookieAuth,
  ApiOAuth2,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DomainError } from '../infra/http/domain-error.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { AppConfig } from '../infra/config/app-config.js';
import { AuthService } from '../login/login.service.js';
import { FORM_AND_JSON, NO_STORE } from './oauth-http.js';
import {
  Public,
  SWAGGER_COOKIE,
  SWAGGER_INTROSPECTION,
  SWAGGER_OAUTH2,
} from '../auth/authenticated.decorator.js';
import { IntrospectionDto, TokenOperationDto } from './dto/oauth.dto.js';
import { OAuthService, type TokenTypeHint } from './oauth.service.js';
import type { Principal } from '../credentials/principal.js';

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
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

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
    @Res({ passthrough: true }) res: Response,
  ): Promise<Record<string, never>> {
    const { token, hint } = tokenParameters(body);
    res.set(NO_STORE);
    await this.oauth.revoke(token, hint);
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
    if (!this.oauth.mayIntrospect(await this.caller(req)))
      throw new DomainError(
        'unauthenticated',
        'Introspection needs an admin or a listed resource server',
      );
    const { token, hint } = tokenParameters(body);
    return this.oauth.introspect(token, hint);
  }

  /** The session's principal, a bearer token's, or Basic client credentials. */
  private async caller(req: Request) {
    if (req.user) return { principal: req.user as Principal };
    const header = req.headers.authorization;
    const bearer = BEARER.exec(header ?? '');
    if (bearer) {
      const principal = await this.auth.resolveToken(bearer[1]);
      return principal ? { principal } : {};
    }
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
