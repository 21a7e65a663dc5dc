import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { SessionAuth } from '../session/session-auth.js';
import { sessionDeadline } from '../session/session-id.js';
import { SessionStore } from '../session/session.store.js';
import type { PublicUser, User } from '../users/user.js';
import { toPublicUser } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { failedLoginOutcome } from './login-outcome.js';
import { LoginThrottle } from './login-throttle.js';
import { IssuedToken, LoginStore } from './login.store.js';
import type { ClientInfo, LoginRecord, Principal } from './principal.js';
import type { PasswordGrant } from './token-request.js';

/** Errors that mean a wrong password was tried: they count towards the throttle. */
const WRONG_PASSWORD_CODES: ReadonlySet<string> = new Set([
  'invalid_grant',
  'wrong_password',
]);

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface StartedLogin {
  session: SessionAuth;
  token: IssuedToken;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginStore,
    private readonly throttle: LoginThrottle,
    private readonly metrics: MetricsService,
  ) {}

  async register(username: string, password: string): Promise<PublicUser> {
    return toPublicUser(await this.users.register(username, password));
  }

  /** Checks a password grant under the failed-login throttle of the account and the client address. */
  async verifyCredentials(
    grant: PasswordGrant,
    address: string,
  ): Promise<User> {
    try {
      return await this.underThrottle(grant.username, address, () =>
        this.users.verifyCredentials(grant.username, grant.password),
      );
    } catch (err) {
      this.metrics.loginAttempted(failedLoginOutcome(err));
      throw err;
    }
  }

  /**
   * Runs a password check behind the failed-login throttle: refused at once while the
   * account or address is cooling down; a wrong password counts against both.
   */
  private async underThrottle<T>(
    username: string,
    address: string,
    check: () => Promise<T>,
  ): Promise<T> {
    await this.throttle.check(username, address);
    try {
      const result = await check();
      await this.throttle.recordSuccess(username);
      return result;
    } catch (err) {
      if (err instanceof DomainError && WRONG_PASSWORD_CODES.has(err.code)) {
        await this.throttle.recordFailure(username, address);
      }
      throw err;
    }
  }

  /**
   * Records a login for a verified user, bound to the freshly generated session id, and
   * issues its first access token. The login ends when the session id's deadline passes.
   */
  async startLogin(
    user: User,
    sessionId: string,
    client: ClientInfo,
  ): Promise<StartedLogin> {
    try {
      const started = await this.recordLogin(user, sessionId, client);
      this.metrics.loginAttempted('success');
      return started;
    } catch (err) {
      this.metrics.loginAttempted(failedLoginOutcome(err));
      throw err;
    }
  }

  private async recordLogin(
    user: User,
    sessionId: string,
    client: ClientInfo,
  ): Promise<StartedLogin> {
    const expiresAt = sessionDeadline(sessionId);
    if (expiresAt === null) throw new Error('session id without a deadline');
    const loginId = await this.logins.create(
      user.id,
      client,
      expiresAt,
      SessionStore.key(sessionId),
    );
    const session: SessionAuth = {
      userId: user.id,
      username: user.username,
      roles: user.roles,
      loginId,
      userCreatedAt: user.createdAt,
      expiresAt,
    };
    try {
      const token = await this.logins.issueToken(session, expiresAt);
      this.metrics.tokensIssued();
      return { session, token };
    } catch (err) {
      await this.logins.end(user.id, loginId).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Checks, after the session is written, that its login was not ended meanwhile; if it was,
   * deletes the session and fails, as a token issued into an ended login does.
   */
  async confirmLogin(session: SessionAuth, sessionId: string): Promise<void> {
    await this.logins.confirmSession(
      session.userId,
      session.loginId,
      SessionStore.key(sessionId),
    );
  }

  /** Undoes a login whose session could not be saved, so nothing is left half-written. */
  async abandonLogin(session: SessionAuth): Promise<void> {
    const revoked = await this.logins.end(session.userId, session.loginId);
    this.metrics.tokensRevoked('login_abandoned', revoked);
  }

  /** A further token for the login behind a session. */
  async tokenForSession(session: SessionAuth): Promise<IssuedToken> {
    const token = await this.logins.issueToken(session, session.expiresAt);
    this.metrics.tokensIssued();
    return token;
  }

  sessionPrincipal(session: SessionAuth): Principal {
    this.logins.markSeen(session.userId, session.loginId);
    return {
      userId: session.userId,
      username: session.username,
      roles: session.roles,
      loginId: session.loginId,
      userCreatedAt: session.userCreatedAt,
      via: 'session',
    };
  }

  /** The principal behind an access token, or null when it is unknown, expired or revoked. */
  async resolveToken(accessToken: string): Promise<Principal | null> {
    if (!TOKEN_PATTERN.test(accessToken)) return null;
    const record = await this.logins.findToken(accessToken);
    if (!record) return null;
    this.logins.markSeen(record.userId, record.loginId);
    return { ...record, via: 'bearer' };
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

  /** Changes the password and ends every other login of the user. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    address: string,
  ): Promise<void> {
    const user = await this.users.getById(principal.userId);
    // Throttled like a login, so a stolen session cannot guess the password at leisure.
    await this.underThrottle(user.username, address, async () => {
      if (!(await this.users.verifyPassword(user, currentPassword))) {
        throw new DomainError(
          'wrong_password',
          'The current password is wrong',
        );
      }
    });
    await this.users.changePassword(user.id, newPassword);
    const ended = await this.logins.endAll(user.id, principal.loginId);
    this.metrics.tokensRevoked('password_change', ended.tokens);
  }
}
