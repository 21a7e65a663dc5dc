import { Injectable, Logger } from '@nestjs/common';
import { LoginsService } from '../credentials/logins.service.js';
import { PersonalTokensService } from '../credentials/personal-tokens.service.js';
import type { ClientInfo } from '../credentials/principal.js';
import { DomainError } from '../infra/http/domain-error.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { MailService } from '../mail/mail.service.js';
import { invalidResetLink, UsersService } from '../users/users.service.js';
import { AccountNotices } from './account-notices.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordResetRequests } from './password-reset-requests.js';

/** What the reset form shows of the account a live link is for. */
export interface ResetForm {
  username: string;
  /** Names of the account's live personal tokens. */
  personalTokens: string[];
}

/**
 * Forgotten passwords: a request mails a one-time link (in the background, see
 * PasswordResetRequests); the link's form sets a new password, which ends every login of the
 * account, clears its failed logins, revokes its personal tokens unless asked not to, and
 * mails a notice. It never logs anyone in.
 */
@Injectable()
export class PasswordResetService {
  private readonly logger = new Logger('PasswordReset');

  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginsService,
    private readonly personalTokens: PersonalTokensService,
    private readonly throttle: LoginThrottle,
    private readonly notices: AccountNotices,
    private readonly requests: PasswordResetRequests,
    private readonly mail: MailService,
    private readonly metrics: MetricsService,
  ) {}

  /** With MAIL=off there is no reset: its routes answer 404. */
  assertEnabled(): void {
    if (!this.mail.enabled) throw new DomainError('not_found', 'Not found');
  }

  /** Queues a request for a link; the same (nothing) for any login. */
  request(login: string, client: ClientInfo): void {
    this.assertEnabled();
    this.requests.submit(login, client);
  }

  /** What the link's page shows, without using the link; null for a dead one. */
  async form(token: string): Promise<ResetForm | null> {
    this.assertEnabled();
    const user = await this.users.resetTarget(token);
    if (!user) return null;
    const tokens = await this.personalTokens.list(user.id);
    return {
      username: user.username,
      personalTokens: tokens.map((t) => t.name),
    };
  }

  /**
   * Sets the new password of a live link's account. Every login is ended before the change
   * commits, so a failure after the commit leaves no session of the old password behind (one
   * before it leaves the person logged out, the link unused); a login made with the old
   * password in between is ended after it.
   */
  async reset(
    token: string,
    newPassword: string,
    revokePersonalTokens: boolean,
    client: ClientInfo,
  ): Promise<void> {
    this.assertEnabled();
    const target = await this.users.resetTarget(token);
    if (!target) throw invalidResetLink();
    const prepared = await this.users.preparePassword(newPassword);
    const ended = await this.logins.endAll(target.id);
    const revoked = revokePersonalTokens
      ? await this.personalTokens.revokeAll(target.id, 'password_reset', {
          client,
        })
      : null;
    const effects = { logins: ended.logins, personalTokens: revoked };
    const user = await this.users.resetPassword(
      token,
      prepared,
      { client },
      { loginsEnded: ended.logins, personalTokensRevoked: revoked },
      (tx, account) => this.notices.passwordReset(tx, account, effects),
    );
    this.metrics.tokensRevoked('password_reset', ended.tokens);
    const late = await this.logins.endAll(user.id).catch((err: unknown) => {
      this.logger.warn(
        `Logins of user ${user.id} after its reset not ended: ${err instanceof Error ? err.message : String(err)}`,
      );
      return null;
    });
    if (late) this.metrics.tokensRevoked('password_reset', late.tokens);
    await this.throttle.clearAccount(user.username).catch(() => undefined);
  }
}
