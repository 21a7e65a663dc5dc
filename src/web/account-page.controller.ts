import {
  Body,
  Controller,
  Get,
  Header,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AccountService } from '../account/account.service.js';
import { LoginService } from '../login/login.service.js';
import {
  Authenticated,
  CurrentPrincipal,
  Public,
} from '../auth/authenticated.decorator.js';
import { ChangePasswordDto } from '../login/dto/change-password.dto.js';
import { ChangeEmailDto } from '../login/dto/email.dto.js';
import { EmailService } from '../login/email.service.js';
import type { Principal } from '../credentials/principal.js';
import { SCOPES, scopesForRoles } from '../credentials/scopes.js';
import { DomainError } from '../infra/http/domain-error.js';
import { AppConfig } from '../infra/config/app-config.js';
import { clearSessionCookie } from '../auth/session.middleware.js';
import { ACCOUNT_PAGE_PATH, LOGIN_PAGE_PATH } from '../infra/http/browser.js';
import {
  ACCOUNT_PAGE_CSS,
  accountError,
  accountNotice,
  type AccountPageModel,
  renderAccountPage,
} from './account-page.js';
import { clientOf, plainAddress } from '../infra/http/client.js';
import { describeDevice } from '../infra/http/device.js';
import { describeActivity } from './activity.js';
import { FormOnceStore } from './form-once.store.js';
import { PersonalTokenFormDto } from './dto/personal-token-form.dto.js';
import { PERSONAL_TOKEN_DAYS } from '../credentials/personal-tokens.service.js';

/** How many of the latest events the page shows. */
const RECENT_ACTIVITY = 20;

const EXPIRY_CHOICES = [7, 30, 90, 180, 365] as const;

/** Not a token id: the same answer as a token that is gone, shown on the page. */
const TOKEN_ID = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () =>
    new DomainError('not_found', 'No such personal access token'),
});

/**
 * The account page and its forms: plain HTML form posts answered by POST-redirect-GET. A
 * failed post is sent back to the page with its error by the browser-form policy
 * (src/web/browser-form.ts); an anonymous visitor is sent to the login page.
 */
@ApiExcludeController()
@Authenticated({ browser: true })
@Controller()
export class AccountPageController {
  constructor(
    private readonly account: AccountService,
    private readonly login: LoginService,
    private readonly config: AppConfig,
    private readonly forms: FormOnceStore,
    private readonly emails: EmailService,
  ) {}

  @Get('account')
  async page(
    @CurrentPrincipal() principal: Principal,
    @Res() res: Response,
    @Query('done') done?: unknown,
    @Query('error') error?: unknown,
    @Query('form') form?: unknown,
  ): Promise<void> {
    const html = await this.render(principal, {
      notice: accountNotice(done),
      error: accountError(error, form),
    });
    sendPage(res, html);
  }

  @Post('account/logins/:id/end')
  async endLogin(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.account.endLogin(principal, id, clientOf(req));
    if (id === principal.loginId) return this.loggedOut(req, res);
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=login_ended`);
  }

  @Post('account/logout-all')
  async logoutAll(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.account.endAllLogins(principal, clientOf(req));
    this.loggedOut(req, res);
  }

  @Post('account/password')
  async changePassword(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangePasswordDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.login.changePassword(
      principal,
      dto.currentPassword,
      dto.newPassword,
      clientOf(req),
    );
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=password_changed`);
  }

  @Post('account/email')
  async changeEmail(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangeEmailDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.emails.change(
      principal,
      dto.email,
      dto.currentPassword,
      clientOf(req),
    );
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=email_change_sent`);
  }

  @Post('account/email/resend')
  async resendEmail(
    @CurrentPrincipal() principal: Principal,
    @Res() res: Response,
  ): Promise<void> {
    await this.emails.resend(principal);
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=email_link_sent`);
  }

  /**
   * The one answer that shows a new token's secret: the page itself, not a redirect, so the
   * secret is in no URL, history entry or log, and (as every account page) never cached.
   */
  @Post('account/personal-tokens')
  async createToken(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: PersonalTokenFormDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (dto.formId && !(await this.forms.claim(principal.userId, dto.formId)))
      throw new DomainError(
        'form_already_sent',
        'This form was sent already; its token is in the list',
      );
    const created = await this.account.createPersonalToken(
      principal,
      {
        name: dto.name,
        scopes: dto.scopes,
        expiresInDays: dto.expiresInDays,
        currentPassword: dto.currentPassword,
      },
      clientOf(req),
    );
    sendPage(res, await this.render(principal, { createdToken: created }));
  }

  @Post('account/personal-tokens/:id/revoke')
  async revokeToken(
    @CurrentPrincipal() principal: Principal,
    @Param('id', TOKEN_ID) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.account.revokePersonalToken(principal, id, clientOf(req));
    res.redirect(303, `${ACCOUNT_PAGE_PATH}?done=token_revoked`);
  }

  @Public()
  @Get('assets/account.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  css(): string {
    return ACCOUNT_PAGE_CSS;
  }

  private async render(
    principal: Principal,
    extra: Pick<AccountPageModel, 'notice' | 'error' | 'createdToken'>,
  ): Promise<string> {
    const [logins, tokens, events, email] = await Promise.all([
      this.account.listLogins(principal),
      this.account.listPersonalTokens(principal),
      this.account.listEvents(principal, { limit: RECENT_ACTIVITY }),
      this.emails.enabled ? this.emails.state(principal) : undefined,
    ]);
    const live = new Set(logins.map((login) => login.id));
    return renderAccountPage({
      username: principal.username,
      logins: logins.map((login) => ({
        id: login.id,
        device: describeDevice(login.userAgent),
        ip: plainAddress(login.ip),
        createdAt: login.createdAt,
        lastSeenAt: login.lastSeenAt,
        current: login.current,
      })),
      tokens,
      activity: events.items.map((event) => ({
        at: event.at,
        text: describeActivity(event),
        liveLoginId:
          event.loginId !== null && live.has(event.loginId)
            ? event.loginId
            : null,
      })),
      grantableScopes: scopesForRoles(principal.roles).map((name) => ({
        name,
        description: SCOPES[name],
      })),
      expiryDays: {
        choices: EXPIRY_CHOICES,
        default: PERSONAL_TOKEN_DAYS.default,
      },
      email: email && {
        address: email.email,
        verified: email.emailVerified,
      },
      tokenFormId: this.forms.issue(),
      ...extra,
    });
  }

  /** This browser's login has ended: its session key went with it, the cookie goes now. */
  private loggedOut(req: Request, res: Response): void {
    clearSessionCookie(req, res, this.config.sessionCookieName);
    res.redirect(303, LOGIN_PAGE_PATH);
  }
}

/**
 * The page as the answer. Set here rather than by @Header: Nest sets those headers before the
 * handler runs, so an error answered instead (JSON) would go out labelled as HTML.
 */
function sendPage(res: Response, html: string): void {
  res.status(200).type('html').send(html);
}
