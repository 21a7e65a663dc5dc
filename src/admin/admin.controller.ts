import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  PersonalTokenDto,
  RevokedPersonalTokensDto,
} from '../account/dto/personal-token.dto.js';
import {
  Authenticated,
  CurrentPrincipal,
} from '../auth/authenticated.decorator.js';
import {
  AdminSecurityEventPageDto,
  ListAdminEventsQuery,
} from '../account/dto/security-event.dto.js';
import { Client } from '../auth/client.decorator.js';
import { UserDto } from './dto/user.dto.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { ErrorBody } from '../infra/http/error-body.dto.js';
import { AdminService } from './admin.service.js';
import {
  EndedLoginsDto,
  ListUsersQuery,
  UpdateUserDto,
  UserPageDto,
} from './dto/admin.dto.js';

@ApiTags('admin')
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('me')
  @Authenticated({ scope: 'profile' })
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentPrincipal() principal: Principal) {
    return this.admin.me(principal);
  }

  @Get('users')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({
    summary: 'List users, oldest first, a page at a time',
    description:
      'Keyset paging: follow `nextCursor` with `after` until it is null. Pages stay stable while users are added.',
  })
  @ApiOkResponse({ type: UserPageDto })
  @ApiBadRequestResponse({
    description: 'Bad limit, cursor or prefix',
    type: ErrorBody,
  })
  async users(@Query() query: ListUsersQuery) {
    return this.admin.list(query);
  }

  @Get('events')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({
    summary: "Any account's security events, newest first, filtered",
    description:
      'Keyset paging: follow `nextCursor` with `after` (and the same filters) until it is null.',
  })
  @ApiOkResponse({ type: AdminSecurityEventPageDto })
  @ApiBadRequestResponse({
    description:
      'A filter, limit or cursor it does not know: the message names the field',
    type: ErrorBody,
  })
  async events(@Query() query: ListAdminEventsQuery) {
    return this.admin.listEvents(query);
  }

  @Patch('users/:id')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({ summary: "Set a user's roles or disable the account" })
  @ApiOkResponse({ type: UserDto })
  @ApiBadRequestResponse({ description: 'Invalid fields', type: ErrorBody })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorBody })
  async update(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @Body() dto: UpdateUserDto,
    @CurrentPrincipal() admin: Principal,
    @Client() client: ClientInfo,
  ) {
    return this.admin.update(id, dto, admin, client);
  }

  @Delete('users/:id/sessions')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({ summary: 'End every login of a user' })
  @ApiOkResponse({ type: EndedLoginsDto })
  @ApiBadRequestResponse({ description: 'Not a user id', type: ErrorBody })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorBody })
  async endSessions(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @CurrentPrincipal() admin: Principal,
    @Client() client: ClientInfo,
  ) {
    return { ended: await this.admin.endLogins(id, admin, client) };
  }

  @Get('users/:id/personal-tokens')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({ summary: "List a user's live personal access tokens" })
  @ApiOkResponse({ type: [PersonalTokenDto] })
  @ApiBadRequestResponse({ description: 'Not a user id', type: ErrorBody })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorBody })
  async personalTokens(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
  ) {
    return this.admin.listPersonalTokens(id);
  }

  @Delete('users/:id/personal-tokens')
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({ summary: 'Revoke every personal access token of a user' })
  @ApiOkResponse({ type: RevokedPersonalTokensDto })
  @ApiBadRequestResponse({ description: 'Not a user id', type: ErrorBody })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorBody })
  async revokePersonalTokens(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @CurrentPrincipal() admin: Principal,
    @Client() client: ClientInfo,
  ) {
    return {
      revoked: await this.admin.revokePersonalTokens(id, admin, client),
    };
  }

  @Delete('users/:id/personal-tokens/:tokenId')
  @HttpCode(204)
  @Authenticated({ scope: 'admin', roles: ['admin'] })
  @ApiOperation({ summary: "Revoke one of a user's personal access tokens" })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiBadRequestResponse({ description: 'Not an id', type: ErrorBody })
  @ApiNotFoundResponse({
    description: 'No such token of that user',
    type: ErrorBody,
  })
  async revokePersonalToken(
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
    @Param('tokenId', new ParseUUIDPipe({ version: '4' })) tokenId: string,
    @CurrentPrincipal() admin: Principal,
    @Client() client: ClientInfo,
  ) {
    await this.admin.revokePersonalToken(id, tokenId, admin, client);
  }
}
