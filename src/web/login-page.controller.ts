import { Controller, Get, Header, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/authenticated.decorator.js';
import { AppConfig } from '../infra/config/app-config.js';
import {
  LOGIN_PAGE_CSS,
  loginErrorMessage,
  renderLoginPage,
} from './login-page.js';

@ApiExcludeController()
@Controller()
export class LoginPageController {
  constructor(private readonly config: AppConfig) {}

  @Public()
  @Get(['/', 'auth/login'])
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(
    @Req() req: Request,
    @Query('error') error?: unknown,
    @Query('registered') registered?: unknown,
    @Query('reset') reset?: unknown,
  ): string {
    const auth = req.sessionAuth;
    return renderLoginPage({
      username: auth?.username,
      emailField: this.config.mail.enabled,
      error: auth
        ? undefined
        : loginErrorMessage(typeof error === 'string' ? error : undefined),
      notice: auth
        ? undefined
        : typeof registered === 'string'
          ? `Account ${registered.slice(0, 64)} created. You can log in now.`
          : reset !== undefined
            ? 'Your password was reset and every login ended. Log in with the new password.'
            : undefined,
      passwordReset: this.config.mail.enabled,
    });
  }

  @Public()
  @Get('assets/login.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  css(): string {
    return LOGIN_PAGE_CSS;
  }
}
