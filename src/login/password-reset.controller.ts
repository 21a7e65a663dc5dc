import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/authenticated.decorator.js';
import { Client } from '../auth/client.decorator.js';
import type { ClientInfo } from '../credentials/principal.js';
import {
  FORGOT_PAGE_PATH,
  LOGIN_PAGE_PATH,
  prefersHtml,
} from '../infra/http/browser.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { FORM_AND_JSON, MessageDto } from '../infra/http/http-bodies.js';
import {
  ForgotPasswordDto,
  ResetPasswordDto,
} from './dto/password-reset.dto.js';
import { PasswordResetService } from './password-reset.service.js';

/** The one answer to a reset request, whatever the login. */
export const RESET_REQUESTED =
  'If an account matches, we sent a link to its verified address. It works once, for a limited time.';

/** Forgotten passwords: a mailed one-time link, and setting a new password with it. */
@ApiTags('auth')
@Controller('auth/password')
export class PasswordResetController {
  constructor(private readonly resets: PasswordResetService) {}

  @Public()
  @Post('forgot')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail a password-reset link to the account’s verified address',
    description:
      'Answers the same 202 for any login, whether or not an account has it or a verified address; the link is mailed in the background, silently throttled (one a minute and five an hour per account, 20 requests a minute per client address).',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiAcceptedResponse({ type: MessageDto })
  @ApiBadRequestResponse({
    description: 'No login, or an over-long one',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({
    description: 'Mail is off (MAIL=off)',
    type: ErrorBody,
  })
  forgot(
    @Body() dto: ForgotPasswordDto,
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    this.resets.request(dto.login, client);
    if (prefersHtml(req)) {
      res.redirect(303, `${FORGOT_PAGE_PATH}?sent=1`);
      return;
    }
    return { message: RESET_REQUESTED };
  }

  @Public()
  @Post('reset')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Set a new password with a mailed link',
    description:
      'Ends every login of the account (sessions, access and refresh tokens), clears its failed logins, revokes its personal access tokens unless `revokePersonalTokens` is false, and mails a notice. Logs no one in.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiOkResponse({ type: MessageDto })
  @ApiBadRequestResponse({
    description:
      'A link that is unknown, used, expired or superseded (`invalid_link`, the same for each), or a new password outside the policy',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({
    description: 'Mail is off (MAIL=off)',
    type: ErrorBody,
  })
  @ApiServiceUnavailableResponse({
    description: 'A store is unavailable',
    type: ErrorBody,
  })
  async reset(
    @Body() dto: ResetPasswordDto,
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    await this.resets.reset(
      dto.token,
      dto.newPassword,
      dto.revokePersonalTokens ?? true,
      client,
    );
    if (prefersHtml(req)) {
      res.redirect(303, `${LOGIN_PAGE_PATH}?reset=1`);
      return;
    }
    return { message: 'Password reset; log in with the new password' };
  }
}
