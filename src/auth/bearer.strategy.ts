import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { CredentialResolver } from '../credentials/credential-resolver.js';
import type { Principal } from '../credentials/principal.js';
import { DomainError } from '../infra/http/domain-error.js';
import { AUTH_REALM } from '../infra/http/http-errors.js';

/** passport-http-bearer, with the principal behind the token from the credential resolver. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly credentials: CredentialResolver) {
    super({ realm: AUTH_REALM });
  }

  async validate(token: string): Promise<Principal> {
    const principal = await this.credentials.fromBearer(token);
    if (!principal)
      throw new DomainError(
        'invalid_token',
        'The access token is unknown, expired or revoked',
      );
    return principal;
  }
}
