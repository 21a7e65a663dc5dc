import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-http-bearer';
import { AUTH_REALM } from '../common/http-errors.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';

/**
 * passport-http-bearer, registered on a passport instance of this app's own rather than the
 * process-wide one, so two apps in one process never check tokens through each other's store.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  // `declare`: no field initialiser may run after super(), which has already set it.
  declare private authenticator?: passport.Authenticator;

  constructor(private readonly auth: AuthService) {
    super({ realm: AUTH_REALM });
  }

  // Called by the PassportStrategy mixin (untyped there) to register this strategy.
  getPassportInstance(): passport.Authenticator {
    this.authenticator ??= new passport.Authenticator();
    return this.authenticator;
  }

  async validate(accessToken: string): Promise<Principal | false> {
    return (await this.auth.resolveToken(accessToken)) ?? false;
  }
}
