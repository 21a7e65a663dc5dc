import { Injectable } from '@nestjs/common';
import type { DraftLogin, IssuedToken } from '../credentials/logins.service.js';
import { LoginsService } from '../credentials/logins.service.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { grantScope, type Scope } from '../credentials/scopes.js';
import { sessionDeadline } from '../credentials/session-id.js';
import { ownContext } from '../credentials/event-context.js';
import { SecurityEvents } from '../events/security-events.js';
import { AppConfig } from '../infra/config/app-config.js';
import type { Tx } from '../infra/db/database.js';
import { DomainError } from '../infra/http/domain-error.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import type { PublicUser, User } from '../users/user.js';
import { toPublicUser, USERNAME_PATTERN } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { AccountNotices } from './account-notices.js';
import { failedLoginOutcome } from './login-outcome.js';
import type { LoginSession } from './login-session.js';
import { LoginThrottle } from './login-throttle.js';

/** Errors that mean a wrong password was tried: they count towards the throttle. */
const WRONG_PASSWORD_CODES: ReadonlySet<string> = new Set([
  'invalid_grant',
  'wrong_password',
]);

function isWrongPassword(err: unknown): boolean {
  return err instanceof DomainError && WRONG_PASSWORD_CODES.has(err.code);
}

/** What a password login answers: its first access token and, for API clients, a refresh token. */
export interface LoginTokens extends IssuedToken {
  refreshToken?: string;
}

/** A password grant's credentials and the scopes asked for. */
export interface PasswordCredentials {
  username: string;
  password: string;
  scope?: Scope[];
}

/** Proving who you are with a password: logins, registration, re-authentication, password changes. */
@Injectable()
export class LoginService {
  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginsService,
    private readonly throttle: LoginThrottle,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly events: SecurityEvents,
    private readonly notices: AccountNotices,
  ) {}

  /** `email`: the claimed address and what its verification writes in the same transaction. */
  async register(
    username: string,
    password: string,
    client: ClientInfo,
    email?: { address: string; also: (tx: Tx, user: User) => Promise<void> },
  ): Promise<PublicUser> {
    return toPublicUser(
      await this.users.register(
        username,
        password,
        undefined,
        { client },
        email,
      ),
    );
  }

  /**
   * A password login: checks the credentials under the throttle, gives the request a fresh
   * session, writes the session and the login's first tokens, then records the login naming
   * them all in one step. Until that step they are known to no one, so a login ended meanwhile
   * (logout-all, password change, disable) cannot miss them, and the account's login epoch,
   * read before the password was checked, refuses the record when all its logins ended since.
   * If any write fails, what was written is dropped, so nothing is left half-written.
   */
  async login(
    grant: PasswordCredentials,
    client: ClientInfo,
    session: LoginSession,
    options: { refreshToken: boolean } = { refreshToken: true },
  ): Promise<LoginTokens> {
    let draft: DraftLogin;
    try {
      let epoch = '';
      let found: User | undefined;
      const bucket = await this.throttleName(grant.username);
      const user = await this.underThrottle(bucket, client, () =>
        this.users
          .verifyCredentials(
            grant.username,
            grant.password,
            async (account) => {
              found = account;
              epoch = await this.logins.epochOf(account.id);
            },
          )
          .catch((err: unknown) => {
            // An unknown name is only counted (auth_logins_total): what was typed is not stored.
            if (found && isWrongPassword(err))
              this.events.record({
                type: 'login.failed',
                userId: found.id,
                client,
                details: found.disabled ? { reason: 'account_disabled' } : {},
              });
            throw err;
          }),
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
            loginId: draft.login.loginId,
            userCreatedAt: user.createdAt,
            expiresAt: sessionExpiresAt,
          }),
        ]);
        await this.logins.record(draft, epoch);
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
    this.events.record({
      type: 'login.succeeded',
      userId: record.userId,
      client,
      loginId: record.loginId,
      details: { scope: record.scope.join(' ') },
    });
    return {
      accessToken: draft.access.token,
      expiresIn: Math.floor((record.expiresAt - record.issuedAt) / 1000),
      scope: record.scope,
      refreshToken: draft.refresh?.token,
    };
  }

  /**
   * The name whose account bucket an attempt counts in: the account's username, also when
   * the login typed is its verified address, so one account has one bucket however it is
   * named. A login that cannot be an address (no "@") is a username or nothing, and costs no
   * lookup before the throttle; one that can is resolved first (username, then verified
   * address), and one that names no account counts in the bucket of what was typed.
   */
  private async throttleName(login: string): Promise<string> {
    if (!login.includes('@')) return login;
    return (await this.users.findForLogin(login))?.username ?? login;
  }

  /**
   * Runs a password check under the login throttle: the attempt is reserved in the account's
   * and the address's bucket first (refused at once while either cools down); a wrong
   * password keeps it as a failure, anything else gives it back.
   */
  private async underThrottle<T>(
    username: string,
    client: ClientInfo,
    check: () => Promise<T>,
  ): Promise<T> {
    const reservation = await this.throttle
      .reserve(username, client.ip)
      .catch((err: unknown) => {
        // Folded per account and minute, resolved to the account off the request path.
        if (
          err instanceof DomainError &&
          err.code === 'too_many_attempts' &&
          USERNAME_PATTERN.test(username)
        )
          this.events.throttled(username, client);
        throw err;
      });
    let result: T;
    try {
      result = await check();
    } catch (err) {
      await (
        isWrongPassword(err) ? reservation.failed() : reservation.release()
      ).catch(() => undefined);
      throw err;
    }
    await reservation.release();
    return result;
  }

  /**
   * Re-authentication: the caller's current password, checked under the login throttle (a
   * wrong one counts as a failed login), or `wrong_password`. The caller's account.
   */
  async confirmPassword(
    principal: Principal,
    password: string,
    client: ClientInfo,
  ): Promise<User> {
    const user = await this.users.getById(principal.userId);
    // Throttled like a login, so a stolen session cannot guess the password at leisure.
    await this.underThrottle(user.username, client, async () => {
      if (!(await this.users.verifyPassword(user, password))) {
        this.events.record({
          type: 'login.failed',
          userId: user.id,
          ...ownContext(principal, client),
          details: { reauthentication: true },
        });
        throw new DomainError(
          'wrong_password',
          'The current password is wrong',
        );
      }
    });
    return user;
  }

  /** Changes the password and ends every other login of the user. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    client: ClientInfo,
  ): Promise<void> {
    await this.confirmPassword(principal, currentPassword, client);
    await this.users.changePassword(
      principal.userId,
      newPassword,
      ownContext(principal, client),
      (tx, user) => this.notices.passwordChanged(tx, user),
    );
    const ended = await this.logins.endAll(principal.userId, principal.loginId);
    this.metrics.tokensRevoked('password_change', ended.tokens);
  }
}
