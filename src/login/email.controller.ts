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
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
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
import { prefersHtml } from '../infra/http/browser.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { FORM_AND_JSON, MessageDto } from '../infra/http/http-bodies.js';
import {
  ChangeEmailDto,
  EmailLinkDto,
  EmailStateDto,
  VerifiedEmailDto,
} from './dto/email.dto.js';
import {
  EMAIL_UNDO_PATH,
  EMAIL_VERIFY_PATH,
  EmailService,
} from './email.service.js';

const MAIL_OFF = 'MAIL=off: the email routes are not there';

/** The account's email address: its state, a change, a new link, and the mailed links' posts. */
@ApiTags('auth')
@Controller('auth/email')
export class EmailController {
  constructor(private readonly emails: EmailService) {}

  @Get()
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: "The account's email address and whether it is verified",
  })
  @ApiOkResponse({ type: EmailStateDto })
  @ApiNotFoundResponse({ description: MAIL_OFF, type: ErrorBody })
  state(@CurrentPrincipal() principal: Principal) {
    return this.emails.state(principal);
  }

  @Post()
  @HttpCode(200)
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: 'Change the email address',
    description:
      'The new address gets a verification link; a verified old address stays until then, and gets a notice with a link (7 days) that undoes the change and ends every login.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiOkResponse({ type: MessageDto })
  @ApiBadRequestResponse({
    description:
      'Wrong current password (`wrong_password`) or an invalid address',
    type: ErrorBody,
  })
  @ApiTooManyRequestsResponse({
    description:
      'Too many wrong current passwords for this account or address; see Retry-After',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({ description: MAIL_OFF, type: ErrorBody })
  async change(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: ChangeEmailDto,
    @Client() client: ClientInfo,
  ) {
    await this.emails.change(principal, dto.email, dto.currentPassword, client);
    return { message: 'Verification link sent to the new address' };
  }

  @Post('resend')
  @HttpCode(200)
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: 'Send a new verification link to the unverified address',
    description: 'The earlier link stops working.',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiBadRequestResponse({
    description: 'The account has no unverified address',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({ description: MAIL_OFF, type: ErrorBody })
  async resend(@CurrentPrincipal() principal: Principal) {
    await this.emails.resend(principal);
    return { message: 'Verification link sent' };
  }

  @Public()
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({
    summary: "Verify an address with its mailed link's token",
    description:
      'The link opens a page (GET) whose button posts here; only this POST uses the token.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiOkResponse({ type: VerifiedEmailDto })
  @ApiBadRequestResponse({
    description:
      'Unknown, used, expired or superseded token: one answer (`invalid_link`)',
    type: ErrorBody,
  })
  @ApiConflictResponse({
    description:
      'Another account verified this address first (`email_taken`); the link is left unused',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({ description: MAIL_OFF, type: ErrorBody })
  async verify(
    @Body() dto: EmailLinkDto,
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const verified = await this.emails.verify(dto.token, client);
    if (prefersHtml(req)) {
      res.redirect(303, `${EMAIL_VERIFY_PATH}?done=verified`);
      return;
    }
    return verified;
  }

  @Public()
  @Post('undo')
  @HttpCode(200)
  @ApiOperation({
    summary: "Undo an email change with the old address's link",
    description:
      'Restores the old address as the verified one, ends every pending link and every login of the account.',
  })
  @ApiConsumes(...FORM_AND_JSON)
  @ApiOkResponse({ type: VerifiedEmailDto })
  @ApiBadRequestResponse({
    description: 'Unknown, used or expired token (`invalid_link`)',
    type: ErrorBody,
  })
  @ApiConflictResponse({
    description: 'Another account has verified the old address since',
    type: ErrorBody,
  })
  @ApiNotFoundResponse({ description: MAIL_OFF, type: ErrorBody })
  async undo(
    @Body() dto: EmailLinkDto,
    @Client() client: ClientInfo,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const restored = await this.emails.undo(dto.token, client);
    if (prefersHtml(req)) {
      res.redirect(303, `${EMAIL_UNDO_PATH}?done=undone`);
      return;
    }
    return restored;
  }
}
