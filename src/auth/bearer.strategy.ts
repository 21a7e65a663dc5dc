import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { DomainError } from '../common/domain-error.js';
import { AUTH_REALM } from '../common/http-errors.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';

/** passport-http-bearer: the token's principal comes from the auth service. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly auth: AuthService) {
    super({ realm: AUTH_REALM });
  }

  async validate(accessToken: string): Promise<Principal> {
    const principal = await this.auth.resolveToken(accessToken);
    if (!principal)
      throw new DomainError(
        'invalid_token',
        'The access token is unknown, expired or revoked',
      );
    return principal;
  }
}
