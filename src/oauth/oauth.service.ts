import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { CredentialResolver } from '../credentials/credential-resolver.js';
import {
  LoginsService,
  type IssuedToken,
  type RefreshedTokens,
} from '../credentials/logins.service.js';
import { looksLikePersonalToken } from '../credentials/personal-token.js';
import { PersonalTokensService } from '../credentials/personal-tokens.service.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import {
  formatScope,
  grantScope,
  SCOPE_NAMES,
  type Scope,
} from '../credentials/scopes.js';
import { hashSecret } from '../credentials/secret-hash.js';
import type { SessionAuth } from '../credentials/session-auth.js';
import { SecurityEvents } from '../events/security-events.js';
import { AppConfig } from '../infra/config/app-config.js';
import { DomainError } from '../infra/http/domain-error.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';

export type TokenTypeHint = 'access_token' | 'refresh_token';

/** RFC 7662 2.2: what introspection tells of a token. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      /** RFC 7662 2.2: the RFC 6749 5.1 type, `bearer`; refresh tokens have none there, so `refresh_token`. */
      token_type: 'bearer' | 'refresh_token';
      scope: string;
      username: string;
      sub: string;
      exp: number;
      /** Absent for personal tokens (their creation time is the owner's business). */
      iat?: number;
    };

/**
 * Who calls the introspection endpoint: the request's principal (a session), a bearer value
 * from its Authorization header, or a resource server's HTTP Basic credentials.
 */
export interface IntrospectionCaller {
  principal?: Principal;
  bearer?: string;
  client?: { id: string; secret: string };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The OAuth2 surface beyond the password check: further tokens for a session, refresh with
 * rotation (RFC 6749 6), revocation (RFC 7009), introspection (RFC 7662) and server metadata
 * (RFC 8414).
 */
@Injectable()
export class OAuthService {
  constructor(
    private readonly logins: LoginsService,
    private readonly credentials: CredentialResolver,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly personalTokens: PersonalTokensService,
    private readonly events: SecurityEvents,
  ) {}

  /** A further token for the login behind a session, with the requested scopes its roles allow. */
  async tokenForSession(
    session: SessionAuth,
    scope?: Scope[],
  ): Promise<IssuedToken> {
    const token = await this.logins.issueToken(
      {
        userId: session.userId,
        username: session.username,
        roles: session.roles,
        loginId: session.loginId,
        userCreatedAt: session.userCreatedAt,
        scope: grantScope(scope, session.roles),
      },
      session.expiresAt,
    );
    this.metrics.tokensIssued();
    return token;
  }

  /**
   * The refresh grant (RFC 6749 6), with rotation: a new access token and refresh token, the
   * old one dead. A rotated token presented again after the grace window ends its whole login.
   */
  async refresh(
    refreshToken: string,
    scope: Scope[] | undefined,
    client: ClientInfo,
  ): Promise<RefreshedTokens> {
    const result = await this.logins.refresh(refreshToken, scope);
    this.metrics.refreshed(result.outcome);
    if (result.outcome === 'rotated' || result.outcome === 'grace') {
      this.metrics.tokensIssued();
      return result.tokens;
    }
    if (
      result.outcome === 'reuse_detected' &&
      result.userId &&
      result.loginId
    ) {
      const revoked = await this.logins.end(result.userId, result.loginId);
      this.metrics.tokensRevoked('refresh_reuse', revoked);
      this.events.record({
        type: 'refresh.reuse_detected',
        userId: result.userId,
        client,
        loginId: result.loginId,
      });
    }
    throw new DomainError(
      'invalid_grant',
      'The refresh token is unknown, expired or revoked',
    );
  }

  /**
   * Revokes a token of any kind: an access token ends alone, a refresh token ends its login.
   * Unknown and already revoked tokens are no error (RFC 7009 2.2).
   */
  async revoke(
    token: string,
    hint: TokenTypeHint | undefined,
    client: ClientInfo,
  ): Promise<void> {
    if (looksLikePersonalToken(token)) {
      await this.personalTokens.revokeSecret(token, client);
      return;
    }
    const kinds: TokenTypeHint[] =
      hint === 'refresh_token'
        ? ['refresh_token', 'access_token']
        : ['access_token', 'refresh_token'];
    for (const kind of kinds) {
      if (kind === 'access_token') {
        if (await this.logins.revokeAccessToken(token)) {
          this.metrics.tokensRevoked('revoked', 1);
          return;
        }
      } else {
        const record = await this.logins.findRefreshToken(token);
        if (record) {
          const revoked = await this.logins.end(record.userId, record.loginId);
          this.metrics.tokensRevoked('revoked', revoked);
          this.events.record({
            type: 'login.ended',
            userId: record.userId,
            client,
            loginId: record.loginId,
            details: { by: 'revocation' },
          });
          return;
        }
      }
    }
  }

  /**
   * Admins (a session, or a bearer value with the admin scope, resolved as the guard resolves
   * it: access token or personal token) and listed resource servers.
   */
  async mayIntrospect(caller: IntrospectionCaller): Promise<boolean> {
    const principal =
      caller.principal ??
      (caller.bearer !== undefined
        ? await this.credentials.fromBearer(caller.bearer)
        : null);
    if (principal)
      return (
        principal.roles.includes('admin') && principal.scopes.includes('admin')
      );
    if (caller.bearer !== undefined) return false;
    const { client } = caller;
    if (!client) return false;
    // Compared as digests: equal lengths for timingSafeEqual, and no early exit on a prefix.
    const presented = Buffer.from(hashSecret(`${client.id}:${client.secret}`));
    let match = false;
    for (const known of this.config.introspectionClients) {
      const expected = Buffer.from(hashSecret(`${known.id}:${known.secret}`));
      if (timingSafeEqual(presented, expected)) match = true;
    }
    return match;
  }

  async introspect(
    token: string,
    hint?: TokenTypeHint,
  ): Promise<Introspection> {
    if (looksLikePersonalToken(token)) return this.introspectPersonal(token);
    const kinds: TokenTypeHint[] =
      hint === 'refresh_token'
        ? ['refresh_token', 'access_token']
        : ['access_token', 'refresh_token'];
    for (const kind of kinds) {
      const found =
        kind === 'access_token'
          ? await this.introspectAccess(token)
          : await this.introspectRefresh(token);
      if (found) return found;
    }
    return { active: false };
  }

  private async introspectPersonal(token: string): Promise<Introspection> {
    const found = await this.personalTokens.describe(token);
    if (!found) return { active: false };
    return {
      active: true,
      token_type: 'bearer',
      scope: formatScope(found.principal.scopes),
      username: found.principal.username,
      sub: found.principal.userId,
      exp: seconds(found.expiresAt),
    };
  }

  private async introspectAccess(token: string): Promise<Introspection | null> {
    const record = await this.logins.findAccessToken(token);
    if (!record) return null;
    return {
      active: true,
      token_type: 'bearer',
      scope: formatScope(record.scope ?? []),
      username: record.username,
      sub: record.userId,
      exp: seconds(record.expiresAt),
      iat: seconds(record.issuedAt),
    };
  }

  private async introspectRefresh(
    token: string,
  ): Promise<Introspection | null> {
    const live = await this.logins.liveRefreshToken(token);
    if (!live) return null;
    const { record, login } = live;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: login.scope,
      username: login.username,
      sub: record.userId,
      exp: seconds(record.expiresAt),
      iat: seconds(record.issuedAt),
    };
  }

  /** RFC 8414 metadata, for an issuer (PUBLIC_URL, or the origin the request reached). */
  metadata(issuer: string) {
    return {
      issuer,
      token_endpoint: `${issuer}/auth/token`,
      revocation_endpoint: `${issuer}/auth/revoke`,
      introspection_endpoint: `${issuer}/auth/introspect`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: [],
      scopes_supported: SCOPE_NAMES,
      // No registered clients: client credentials are accepted and ignored ("none").
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      service_documentation: `${issuer}/docs`,
    };
  }
}
