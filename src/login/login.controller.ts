import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  Authenticated,
  CurrentPrincipal,
  Public,
} from '../auth/authenticated.decorator.js';
import { Client } from '../auth/client.decorator.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { LOGIN_PAGE_PATH, prefersHtml } from '../infra/http/browser.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { FORM_AND_JSON, MessageDto } from '../infra/http/http-bodies.js';
import { ChangePasswordDto } from './dto/change-password.dto.js';
import { RegisterDto } from './dto/register.dto.js';
import { EmailService } from './email.service.js';
import { LoginService } from './login.service.js';

/** Registration and password changes (the password login itself is the OAuth2 token endpoint). */
@ApiTags('auth')
@Controller('auth')
export class LoginController {
  constructor(
    private readonly auth: LoginService,
    private readonly emails: EmailService,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({
    summary: 'Create an account with the "user" role',
    description:
      'With `email`, the address is stored unverified and a verification link is mailed to it; the answer never says whether another account claims that address.',
  })
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
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const email =
      dto.email === undefined
        ? undefined
        : { address: dto.email, also: this.emails.onRegistration(dto.email) };
    const user = await this.auth.register(
      dto.username,
      dto.password,
      client,
      email,
    );
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
    @Client() client: ClientInfo,
  ) {
    await this.auth.changePassword(
      principal,
      dto.currentPassword,
      dto.newPassword,
      client,
    );
    return { message: 'Password changed' };
  }

  /** The login's session key is already deleted with the login; the browser drops its cookie. */
}
