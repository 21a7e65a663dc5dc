import { Injectable } from '@nestjs/common';
import { LoginsService } from './logins.service.js';
import { looksLikePersonalToken } from './personal-token.js';
import { PersonalTokensService } from './personal-tokens.service.js';
import type { Principal } from './principal.js';
import { scopesForRoles } from './scopes.js';
import type { SessionAuth } from './session-auth.js';

/** Access and refresh tokens are 256 random bits, base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The one answer to "who is this?": a session's facts or a bearer value (access token or
 * personal access token) turned into a principal. The request gate and introspection both ask
 * here, so a credential means the same everywhere.
 */
@Injectable()
export class CredentialResolver {
  constructor(
    private readonly logins: LoginsService,
    private readonly personalTokens: PersonalTokensService,
  ) {}

  /** The principal of a logged-in session (already read by the session middleware). */
  fromSession(session: SessionAuth): Principal {
    this.logins.markSeen(session.userId, session.loginId);
    return {
      userId: session.userId,
      username: session.username,
      roles: session.roles,
      loginId: session.loginId,
      userCreatedAt: session.userCreatedAt,
      scopes: scopesForRoles(session.roles),
      via: 'session',
    };
  }

  /** The principal behind a bearer value, or null when it is unknown, expired or revoked. */
  async fromBearer(token: string): Promise<Principal | null> {
    if (looksLikePersonalToken(token))
      return this.personalTokens.resolve(token);
    if (!TOKEN_PATTERN.test(token)) return null;
    const record = await this.logins.findAccessToken(token);
    if (!record) return null;
    this.logins.markSeen(record.userId, record.loginId);
    return {
      userId: record.userId,
      username: record.username,
      roles: record.roles,
      loginId: record.loginId,
      userCreatedAt: record.userCreatedAt,
      // Tokens issued before scopes existed carry none: they keep what their roles allow.
      scopes: record.scope ?? scopesForRoles(record.roles),
      via: 'bearer',
    };
  }
}
