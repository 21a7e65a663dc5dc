import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../infra/http/domain-error.js';
import { AppConfig } from '../infra/config/app-config.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import type { LoginSession } from '../auth/login-session.js';
import type { SessionAuth } from '../credentials/session-auth.js';
import { sessionDeadline } from '../credentials/session-id.js';
import type { PublicUser } from '../users/user.js';
import { toPublicUser } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { failedLoginOutcome } from './login-outcome.js';
import { LoginThrottle } from './login-throttle.js';
import {
  type DraftLogin,
  IssuedToken,
  LoginStore,
  type RefreshedTokens,
} from '../credentials/login.store.js';
import type { ClientInfo, LoginRecord, Principal } from '../credentials/principal.js';
import { grantScope, scopesForRoles, type Scope } from '../credentials/scopes.js';
import type { PasswordGrant, RefreshGrant } from '../oauth/token-request.js';

/** Errors that mean a wrong password was tried: they count towards the throttle. */
const WRONG_PASSWORD_CODES: ReadonlySet<string> = new Set([
  'invalid_grant',
  'wrong_password',
]);

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What a password login answers: its first access token and, for API clients, a refresh token. */
export interface LoginTokens extends IssuedToken {
  refreshToken?: string;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginStore,
    private readonly throttle: LoginThrottle,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  async register(username: string, password: string): Promise<PublicUser> {
    return toPublicUser(await this.users.register(username, password));
  }

  /**
   * A password-grant login: checks the credentials under the throttle, gives the request a
   * fresh session, writes the session and the login's first tokens, then records the login
   * naming them all in one step. Until that step they are known to no one, so a login ended
   * meanwhile (logout-all, password change, disable) cannot miss them; if any write fails,
   * what was written is dropped, so nothing is left half-written.
   */
  async login(
    grant: PasswordGrant,
    client: ClientInfo,
    session: LoginSession,
    options: { refreshToken: boolean } = { refreshToken: true },
  ): Promise<LoginTokens> {
    let draft: DraftLogin;
    try {
      const user = await this.underThrottle(grant.username, client.ip, () =>
        this.users.verifyCredentials(grant.username, grant.password),
      );
      const sessionId = await session.regenerate();
      const sessionExpiresAt = sessionDeadline(sessionId);
      if (sessionExpiresAt === null)
        throw new Error('session id without a deadline');
      // A login lasts as long as its longest credential: the session, or the refresh tokens.
      const loginExpiresAt = options.refreshToken
        ? Math.max(
            sessionExpiresAt,
            Date.now() + this.config.refreshTokenAbsoluteSeconds * 1000,
          )
        : sessionExpiresAt;
      draft = this.logins.draft(
        user,
        client,
        loginExpiresAt,
        sessionId,
        grantScope(grant.scope, user.roles),
        options.refreshToken,
      );
      try {
        await Promise.all([
          this.logins.writeCredentials(draft),
          session.save({
            userId: user.id,
            username: user.username,
            roles: user.roles,
            loginId: draft.loginId,
            userCreatedAt: user.createdAt,
            expiresAt: sessionExpiresAt,
          }),
        ]);
        await this.logins.record(draft);
      } catch (err) {
        await this.logins.discard(draft).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      this.metrics.loginAttempted(failedLoginOutcome(err));
      throw err;
    }
    this.metrics.loginAttempted('success');
    this.metrics.tokensIssued();
    const { record } = draft.access;
    return {
      accessToken: draft.access.token,
      expiresIn: Math.floor((record.expiresAt - record.issuedAt) / 1000),
      scope: record.scope,
      refreshToken: draft.refresh?.token,
    };
  }

  /**
   * The refresh grant (RFC 6749 6), with rotation: a new access token and refresh token, the
   * old one dead. A rotated token presented again after the grace window ends its whole login.
   */
  async refresh(grant: RefreshGrant): Promise<RefreshedTokens> {
    const result = await this.logins.refresh(grant.refreshToken, grant.scope);
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
      this.logger.warn(
        `Security event: a rotated refresh token was used again; login ${result.loginId} ended`,
      );
    }
    throw new DomainError(
      'invalid_grant',
      'The refresh token is unknown, expired or revoked',
    );
  }

  /**
   * Runs a password check under the login throttle: the attempt is reserved in the account's
   * and the address's bucket first (refused at once while either cools down); a wrong
   * password keeps it as a failure, anything else gives it back.
   */
  private async underThrottle<T>(
    username: string,
    address: string,
    check: () => Promise<T>,
  ): Promise<T> {
    const reservation = await this.throttle.reserve(username, address);
    let result: T;
    try {
      result = await check();
    } catch (err) {
      const wrongPassword =
        err instanceof DomainError && WRONG_PASSWORD_CODES.has(err.code);
      await (
        wrongPassword ? reservation.failed() : reservation.release()
      ).catch(() => undefined);
      throw err;
    }
    await reservation.release();
    return result;
  }

  /** A further token for the login behind a session, with the requested scopes its roles allow. */
  async tokenForSession(
    session: SessionAuth,
    scope?: Scope[],
  ): Promise<IssuedToken> {
    const token = await this.logins.issueToken(
      { ...tokenFacts(session), scope: grantScope(scope, session.roles) },
      session.expiresAt,
    );
    this.metrics.tokensIssued();
    return token;
  }

  sessionPrincipal(session: SessionAuth): Principal {
    this.logins.markSeen(session.userId, session.loginId);
    return {
      ...tokenFacts(session),
      scopes: scopesForRoles(session.roles),
      via: 'session',
    };
  }

  /** The principal behind an access token, or null when it is unknown, expired or revoked. */
  async resolveToken(accessToken: string): Promise<Principal | null> {
    if (!TOKEN_PATTERN.test(accessToken)) return null;
    const record = await this.logins.findToken(accessToken);
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

  /** Ends the caller's login: its session and every token issued with it. */
  async logout(principal: Principal): Promise<void> {
    const revoked = await this.logins.end(principal.userId, principal.loginId);
    this.metrics.tokensRevoked('logout', revoked);
  }

  /**
   * The caller's account, from the credential's own snapshot (kept current by role changes),
   * so the request needs no read beyond the credential check.
   */
  me(
    principal: Principal,
  ): Pick<PublicUser, 'id' | 'username' | 'roles' | 'createdAt'> {
    return {
      id: principal.userId,
      username: principal.username,
      roles: principal.roles,
      createdAt: principal.userCreatedAt,
    };
  }

  async listLogins(
    principal: Principal,
  ): Promise<(LoginRecord & { current: boolean })[]> {
    const logins = await this.logins.list(principal.userId);
    return logins.map((login) => ({
      ...login,
      current: login.id === principal.loginId,
    }));
  }

  async endLogin(principal: Principal, loginId: string): Promise<void> {
    if (!(await this.logins.exists(principal.userId, loginId))) {
      throw new DomainError('not_found', 'No such login');
    }
    const revoked = await this.logins.end(principal.userId, loginId);
    this.metrics.tokensRevoked('login_ended', revoked);
  }

  async endAllLogins(principal: Principal): Promise<void> {
    const ended = await this.logins.endAll(principal.userId);
    this.metrics.tokensRevoked('logout_all', ended.tokens);
  }

  /**
   * Re-authentication: the caller's current password, checked under the login throttle (a
   * wrong one counts as a failed login), or `wrong_password`.
   */
  async confirmPassword(
    principal: Principal,
    password: string,
    address: string,
  ): Promise<void> {
    const user = await this.users.getById(principal.userId);
    // Throttled like a login, so a stolen session cannot guess the password at leisure.
    await this.underThrottle(user.username, address, async () => {
      if (!(await this.users.verifyPassword(user, password))) {
        throw new DomainError(
          'wrong_password',
          'The current password is wrong',
        );
      }
    });
  }

  /** Changes the password and ends every other login of the user. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    address: string,
  ): Promise<void> {
    await this.confirmPassword(principal, currentPassword, address);
    await this.users.changePassword(principal.userId, newPassword);
    const ended = await this.logins.endAll(principal.userId, principal.loginId);
    this.metrics.tokensRevoked('password_change', ended.tokens);
  }
}

/** What every token of a session's login carries. */
function tokenFacts(session: SessionAuth) {
  return {
    userId: session.userId,
    username: session.username,
    roles: session.roles,
    loginId: session.loginId,
    userCreatedAt: session.userCreatedAt,
  };
}
