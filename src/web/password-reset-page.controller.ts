import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/authenticated.decorator.js';
import { RESET_REQUESTED } from '../login/password-reset.controller.js';
import { PasswordResetService } from '../login/password-reset.service.js';
import {
  renderForgotPage,
  renderResetPage,
  resetErrorMessage,
} from './password-reset-page.js';

/** The pages of a forgotten password (security headers: no-store, no referrer, strict CSP). */
@ApiExcludeController()
@Controller('auth/password')
export class PasswordResetPageController {
  constructor(private readonly resets: PasswordResetService) {}

  @Public()
  @Get('forgot')
  @Header('Content-Type', 'text/html; charset=utf-8')
  forgot(
    @Query('sent') sent?: unknown,
    @Query('error') error?: unknown,
  ): string {
    this.resets.assertEnabled();
    return renderForgotPage({
      notice: sent === undefined ? undefined : RESET_REQUESTED,
      error: resetErrorMessage(typeof error === 'string' ? error : undefined),
    });
  }

  /** Opened from the mail: shows the form; never uses the link (mail scanners open links too). */
  @Public()
  @Get('reset')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async reset(
    @Query('token') token?: unknown,
    @Query('error') error?: unknown,
  ): Promise<string> {
    const value = typeof token === 'string' ? token : '';
    const form = await this.resets.form(value);
    return renderResetPage({
      token: value,
      form,
      error: resetErrorMessage(typeof error === 'string' ? error : undefined),
    });
  }
}
