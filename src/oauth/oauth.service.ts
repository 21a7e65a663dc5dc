import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { looksLikePersonalToken } from '../credentials/personal-token.js';
import { PersonalTokensService } from '../credentials/personal-tokens.service.js';
import { hashSecret } from '../credentials/secret-hash.js';
import { AppConfig } from '../infra/config/app-config.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { LoginStore } from '../credentials/login.store.js';
import type { Principal } from '../credentials/principal.js';
import { formatScope, SCOPE_NAMES } from '../credentials/scopes.js';

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

/** Who may call the introspection endpoint: an admin, or a listed resource server. */
export interface IntrospectionCaller {
  principal?: Principal;
  client?: { id: string; secret: string };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Revocation (RFC 7009), introspection (RFC 7662) and server metadata (RFC 8414). */
@Injectable()
export class OAuthService {
  constructor(
    private readonly logins: LoginStore,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    @Inject(forwardRef(() => PersonalTokensService))
    private readonly personalTokens: PersonalTokensService,
  ) {}

  /**
   * Revokes a token of any kind: an access token ends alone, a refresh token ends its login.
   * Unknown and already revoked tokens are no error (RFC 7009 2.2).
   */
  async revoke(token: string, hint?: TokenTypeHint): Promise<void> {
    if (looksLikePersonalToken(token)) {
      await this.personalTokens.revokeSecret(token);
      return;
    }
    const kinds: TokenTypeHint[] =
      hint === 'refresh_token'
        ? ['refresh_token', 'access_token']
        : ['access_token', 'refresh_token'];
    for (const kind of kinds) {
      if (kind === 'access_token') {
        if (await this.logins.revokeToken(token)) {
          this.metrics.tokensRevoked('revoked', 1);
          return;
        }
      } else {
        const record = await this.logins.findRefresh(token);
        if (record) {
          const revoked = await this.logins.end(record.userId, record.loginId);
          this.metrics.tokensRevoked('revoked', revoked);
          return;
        }
      }
    }
  }

  /** Admins (with the admin scope on a bearer token) and listed resource servers. */
  mayIntrospect(caller: IntrospectionCaller): boolean {
    if (caller.principal)
      return (
        caller.principal.roles.includes('admin') &&
        caller.principal.scopes.includes('admin')
      );
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
    const record = await this.logins.findToken(token);
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
    const record = await this.logins.findRefresh(token);
    if (!record) return null;
    const login = await this.logins.loginFacts(record.userId, record.loginId);
    // A rotated token is recognised (for reuse detection) but no longer live.
    if (!login || login.refreshHash !== hashSecret(token)) return null;
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
