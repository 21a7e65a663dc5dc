import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/authenticated.decorator.js';
import { EmailService } from '../login/email.service.js';
import type { AccountTokenPurpose } from '../users/account-token.store.js';
import {
  emailLinkError,
  type EmailLink,
  renderEmailLinkPage,
  UNDO_LINK,
  VERIFY_LINK,
} from './email-link-page.js';

/**
 * The pages the mailed links open: a GET shows a button and never uses the token (mail
 * scanners and link previews open links); the button posts it to the JSON route, which
 * answers a browser with a redirect back here. No cache, and no Referer carrying the token.
 */
@ApiExcludeController()
@Controller()
export class EmailLinkPageController {
  constructor(private readonly emails: EmailService) {}

  @Public()
  @Get('auth/email/verify')
  verifyPage(
    @Res() res: Response,
    @Query('token') token?: unknown,
    @Query('done') done?: unknown,
    @Query('error') error?: unknown,
  ): Promise<void> {
    return this.page(res, VERIFY_LINK, 'verify_email', token, done, error);
  }

  @Public()
  @Get('auth/email/undo')
  undoPage(
    @Res() res: Response,
    @Query('token') token?: unknown,
    @Query('done') done?: unknown,
    @Query('error') error?: unknown,
  ): Promise<void> {
    return this.page(res, UNDO_LINK, 'undo_email_change', token, done, error);
  }

  private async page(
    res: Response,
    link: EmailLink,
    purpose: AccountTokenPurpose,
    token: unknown,
    done: unknown,
    error: unknown,
  ): Promise<void> {
    this.emails.assertEnabled();
    const live =
      typeof token === 'string' && (await this.emails.isLive(purpose, token));
    const html = renderEmailLinkPage({
      link,
      token: live ? token : undefined,
      done: done === 'verified' || done === 'undone',
      error: emailLinkError(error),
    });
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' })
      .type('html')
      .send(html);
  }
}
