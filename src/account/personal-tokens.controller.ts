import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import {
  Authenticated,
  CurrentPrincipal,
} from '../auth/authenticated.decorator.js';
import { Client } from '../auth/client.decorator.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import {
  CreatedPersonalTokenDto,
  CreatePersonalTokenDto,
  PersonalTokenDto,
} from './dto/personal-token.dto.js';
import { AccountService } from './account.service.js';

@ApiTags('auth')
@Controller('auth/personal-tokens')
export class PersonalTokensController {
  constructor(private readonly account: AccountService) {}

  @Post()
  @HttpCode(201)
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: 'Create a personal access token (re-enter the password)',
    description:
      'The secret is in this answer only. Use it as `Authorization: Bearer <token>`. A wrong current password counts against the login throttle.',
  })
  @ApiCreatedResponse({ type: CreatedPersonalTokenDto })
  @ApiBadRequestResponse({
    description:
      'Wrong current password, invalid fields, or scopes beyond what the caller holds',
    type: ErrorBody,
  })
  @ApiTooManyRequestsResponse({
    description:
      'Too many wrong passwords for this account or address; see Retry-After',
    type: ErrorBody,
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreatePersonalTokenDto,
    @Client() client: ClientInfo,
  ) {
    return this.account.createPersonalToken(principal, dto, client);
  }

  @Get()
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: "List the caller's live personal access tokens, newest first",
  })
  @ApiOkResponse({ type: [PersonalTokenDto] })
  async list(@CurrentPrincipal() principal: Principal) {
    return this.account.listPersonalTokens(principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'account' })
  @ApiOperation({
    summary: "Revoke one of the caller's personal access tokens",
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiBadRequestResponse({ description: 'Not a token id', type: ErrorBody })
  @ApiNotFoundResponse({
    description: 'No such token of the caller',
    type: ErrorBody,
  })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @Client() client: ClientInfo,
  ) {
    await this.account.revokePersonalToken(principal, id, client);
  }
}
