import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  Authenticated,
  CurrentPrincipal,
} from '../auth/authenticated.decorator.js';
import { Client } from '../auth/client.decorator.js';
import { clearSessionCookie } from '../auth/session.middleware.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { AppConfig } from '../infra/config/app-config.js';
import { LOGIN_PAGE_PATH, prefersHtml } from '../infra/http/browser.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { MessageDto } from '../infra/http/http-bodies.js';
import { AccountService } from './account.service.js';
import { LoginDto } from './dto/login.dto.js';
import {
  ListEventsQuery,
  SecurityEventPageDto,
} from './dto/security-event.dto.js';

/** The caller's own logins: this one (logout), one of them, or all. */
@ApiTags('auth')
@Controller('auth')
export class AccountController {
  constructor(
    private readonly auth: AccountService,
    private readonly config: AppConfig,
  ) {}

  @Post('logout')
  @HttpCode(200)
  @Authenticated({ login: true })
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
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.logout(principal, client);
    this.endBrowserSession(req, res);
    if (prefersHtml(req)) return res.redirect(303, LOGIN_PAGE_PATH);
    return { message: 'Logged out' };
  }

  @Get('events')
  @Authenticated({ scope: 'logins' })
  @ApiOperation({
    summary: "The caller's security events, newest first, a page at a time",
    description:
      'Logins, failed and throttled attempts, logouts, password and personal-token changes, and what administrators did to the account. Keyset paging: follow `nextCursor` with `after` until it is null.',
  })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiBadRequestResponse({
    description: 'Bad limit or cursor',
    type: ErrorBody,
  })
  async events(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListEventsQuery,
  ) {
    return this.auth.listEvents(principal, query);
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
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.endLogin(principal, id, client);
    if (id === principal.loginId) this.endBrowserSession(req, res);
  }

  @Post('logout-all')
  @HttpCode(200)
  @Authenticated({ scope: 'logins' })
  @ApiOperation({ summary: 'End every login of the caller, this one included' })
  @ApiOkResponse({ type: MessageDto })
  async logoutAll(
    @CurrentPrincipal() principal: Principal,
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.auth.endAllLogins(principal, client);
    this.endBrowserSession(req, res);
    return { message: 'Logged out everywhere' };
  }

  private endBrowserSession(req: Request, res: Response): void {
    clearSessionCookie(req, res, this.config.sessionCookieName);
  }
}
