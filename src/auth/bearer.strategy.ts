import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { DomainError } from '../infra/http/domain-error.js';
import { AUTH_REALM } from '../infra/http/http-errors.js';
import { looksLikePersonalToken } from '../credentials/personal-token.js';
import { PersonalTokensService } from '../credentials/personal-tokens.service.js';
import { AuthService } from '../login/login.service.js';
import type { Principal } from '../credentials/principal.js';

/**
 * passport-http-bearer: an access token's principal comes from the auth service, a personal
 * access token's (`sbat_…`) from the personal-tokens service.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    private readonly auth: AuthService,
    @Inject(forwardRef(() => PersonalTokensService))
    private readonly personalTokens: PersonalTokensService,
  ) {
    super({ realm: AUTH_REALM });
  }

  async validate(accessToken: string): Promise<Principal> {
    const principal = looksLikePersonalToken(accessToken)
      ? await this.personalTokens.resolve(accessToken)
      : await this.auth.resolveToken(accessToken);
    if (!principal)
      throw new DomainError(
        'invalid_token',
        'The access token is unknown, expired or revoked',
      );
    return principal;
  }
}
