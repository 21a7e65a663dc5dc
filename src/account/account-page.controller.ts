import {
  Body,
  Controller,
  Get,
  Header,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { CurrentPrincipal, Public } from '../auth/decorators.js';
import { ChangePasswordDto } from '../auth/dto/change-password.dto.js';
import type { Principal } from '../auth/principal.js';
import { AppConfig } from '../config/app-config.js';
import { clearSessionCookie } from '../session/session.middleware.js';
import { LOGIN_PAGE_PATH } from '../views/login-page.js';
import {
  ACCOUNT_PAGE_CSS,
  ACCOUNT_PAGE_PATH,
  accountError,
  accountNotice,
  renderAccountPage,
} from './account-page.js';
import { BrowserSessionGuard } from './browser-session.guard.js';
import { describeDevice } from './device.js';

/**
 * The account page and its forms: plain HTML form posts answered by POST-redirect-GET. A
 * failed post is sent back to the page with its error by the browser-form policy
 * (src/views/browser-form.ts); an anonymous visitor is sent to the login page.
 */
@ApiExcludeController()
@UseGuards(BrowserSessionGuard)
@Controller()
export class AccountPageController {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  @Get('account')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async page(
    @CurrentPrincipal() principal: Principal,
    @Query('done') done?: unknown,
    @Query('error') error?: unknown,
    @Query('form') form?: unknown,
  ): Promise<string> {
    const logins = await this.auth.listLogins(principal);
    return renderAccountPage({
      username: principal.username,
      logins: logins.map((login) => ({
        id: login.id,
        device: describeDevice(login.userAgent),
        ip: login.ip,
        createdAt: login.createdAt,
        lastSeenAt: login.lastSeenAt,
        current: login.current,
      })),
      notice: accountNotice(done),
      error: accountError(error, form),
    });
  }

  @Post('account/logins/:id/end')
  async endLogin(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.auth.endLogin(principal, id);
    if (id === principal.loginId) return this.loggedOut(req, res);
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=login_ended`);
  }

  @Post('account/logout-all')
  async logoutAll(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.auth.endAllLogins(principal);
    this.loggedOut(req, res);
  }

  @Post('account/password')
  async changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangePasswordDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.auth.changePassword(
      principal,
      dto.currentPassword,
      dto.newPassword,
      req.ip ?? '',
    );
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=password_changed`);
  }

  @Public()
  @Get('assets/account.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  css(): string {
    return ACCOUNT_PAGE_CSS;
  }

  /** This browser's login has ended: its session key went with it, the cookie goes now. */
  private loggedOut(req: Request, res: Response): void {
    clearSessionCookie(req, res, this.config.sessionCookieName);
    res.redirect(303, LOGIN_PAGE_PATH);
  }
}
