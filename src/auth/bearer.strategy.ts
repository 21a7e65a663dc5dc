import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { AUTH_REALM } from '../common/http-errors.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';

@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly auth: AuthService) {
    super({ realm: AUTH_REALM });
  }

  async validate(accessToken: string): Promise<Principal | false> {
    return (await this.auth.resolveToken(accessToken)) ?? false;
  }
}
