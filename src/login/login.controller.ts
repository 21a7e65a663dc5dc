import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiForbiddenResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppConfig } from '../infra/config/app-config.js';
import { ErrorBody, OAuthErrorBody } from '../infra/http/error-body.dto.js';
import { loginSessionOf } from '../auth/login-session.js';
import { SESSION_COOKIE } from '../auth/session.middleware.js';
import { prefersHtml } from '../web/browser-form.js';
import { AuthService } from './login.service.js';
import { FORM_AND_JSON, NO_STORE } from '../oauth/oauth-http.js';
import type { IssuedToken } from '../credentials/login.store.js';
import {
  Authenticated,
  CurrentPrincipal,
  Public,
  RequiresLogin,
} from '../auth/authenticated.decorator.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import {
  LoginDto,
  MessageDto,
  TokenRequestDto,
  TokenResponseDto,
} from '../oauth/dto/token.dto.js';
import type { Principal } from '../credentials/principal.js';
import { formatScope } from '../credentials/scopes.js';
import { parseTokenRequest } from '../oauth/token-request.js';
import { LOGIN_PAGE_PATH } from '../web/login-page.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create an account with the "user" role' })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiCreatedResponse({
    description: 'Account created',
    schema: {
      example: {
        id: 'uuid',
        username: 'alice',
        createdAt: '2026-01-01T00:00:00.000Z',
      },
    },
  })
  @ApiBadRequestResponse({
    description: 'Invalid or unknown fields',
    type: ErrorBody,
  })
  @ApiConflictResponse({ description: 'Username taken', type: ErrorBody })
  @ApiServiceUnavailableResponse({
    description: 'The store is unavailable',
    type: ErrorBody,
  })
  async register(
    @Body() dto: RegisterDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const user = await this.auth.register(dto.username, dto.password);
    if (prefersHtml(req)) {
      res.redirect(
        303,
        `${LOGIN_PAGE_PATH}?registered=${encodeURIComponent(user.username)}`,
      );
      return;
    }
    res.status(201);
    return { id: user.id, username: user.username, createdAt: user.createdAt };
  }

  @Public()
  @Post('token')
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
      const refreshed = await this.auth.refresh(grant);
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
      const token = await this.auth.tokenForSession(current, grant.scope);
      return { message: 'Already logged in', ...tokenResponse(token) };
    }
    // A browser form keeps the session cookie only: a refresh token would go nowhere.
    const token = await this.auth.login(
      grant,
      { userAgent: req.get('user-agent') ?? '', ip: req.ip ?? '' },
      loginSessionOf(req),
      { refreshToken: !html },
    );
    if (html) return res.redirect(303, LOGIN_PAGE_PATH);
    return {
      ...tokenResponse(token),
      ...(token.refreshToken && { refresh_token: token.refreshToken }),
    };
  }

  @Post('logout')
  @HttpCode(200)
  @Authenticated()
  @RequiresLogin()
  @ApiOperation({
    summary: 'End this login: its session and every token issued with it',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiForbiddenResponse({
    description:
      'A personal access token belongs to no login: revoke it with DELETE /auth/personal-tokens/:id',
    type: ErrorBody,
  })
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.logout(principal);
    this.endBrowserSession(req, res);
    if (prefersHtml(req)) return res.redirect(303, LOGIN_PAGE_PATH);
    return { message: 'Logged out' };
  }

  @Get('sessions')
  @Authenticated({ scope: 'logins' })
  @ApiOperation({ summary: "List the caller's live logins" })
  @ApiOkResponse({ type: [LoginDto] })
  async sessions(@CurrentPrincipal() principal: Principal) {
    return this.auth.listLogins(principal);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @Authenticated({ scope: 'logins' })
  @ApiOperation({
    summary: "End one of the caller's logins, its session and its tokens",
  })
  @ApiNoContentResponse({ description: 'Ended' })
  @ApiNotFoundResponse({
    description: 'No such login of the caller',
    type: ErrorBody,
  })
  async endSession(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.endLogin(principal, id);
    if (id === principal.loginId) this.endBrowserSession(req, res);
  }

  @Post('logout-all')
  @HttpCode(200)
  @Authenticated({ scope: 'logins' })
  @ApiOperation({ summary: 'End every login of the caller, this one included' })
  @ApiOkResponse({ type: MessageDto })
  async logoutAll(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.endAllLogins(principal);
    this.endBrowserSession(req, res);
    return { message: 'Logged out everywhere' };
  }

  @Post('password')
  @HttpCode(200)
  @Authenticated({ scope: 'account' })
  @ApiOperation({ summary: 'Change the password; every other login ends' })
  @ApiOkResponse({ type: MessageDto })
  @ApiBadRequestResponse({
    description: 'Wrong current password or a new password outside the policy',
    type: ErrorBody,
  })
  @ApiTooManyRequestsResponse({
    description:
      'Too many wrong current passwords for this account or address; see Retry-After',
    type: ErrorBody,
  })
  async changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangePasswordDto,
    @Req() req: Request,
  ) {
    await this.auth.changePassword(
      principal,
      dto.currentPassword,
      dto.newPassword,
      req.ip ?? '',
    );
    return { message: 'Password changed' };
  }

  /** The login's session key is already deleted with the login; the browser drops its cookie. */
  private endBrowserSession(req: Request, res: Response): void {
    res.clearCookie(this.config.sessionCookieName, {
      ...SESSION_COOKIE,
      secure: req.secure,
    });
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
