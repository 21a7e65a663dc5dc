import { Injectable } from '@nestjs/common';
import { LoginsService } from '../credentials/logins.service.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { ownContext } from '../credentials/event-context.js';
import type { RecordEvent } from '../events/security-events.js';
import { AppConfig } from '../infra/config/app-config.js';
import type { Tx } from '../infra/db/database.js';
import { DomainError } from '../infra/http/domain-error.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { MailComposer } from '../mail/mail-composer.js';
import { MailService } from '../mail/mail.service.js';
import {
  AccountTokenStore,
  type AccountTokenPurpose,
} from '../users/account-token.store.js';
import { maskEmail, sameEmail } from '../users/email-address.js';
import type { User } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { LoginService } from './login.service.js';

/** The paths of the mailed links: each opens a page whose button posts the token back. */
export const EMAIL_VERIFY_PATH = '/auth/email/verify';
export const EMAIL_UNDO_PATH = '/auth/email/undo';

/** The old address's "this wasn't me" link works this long, whatever the verification TTL. */
const UNDO_TTL_SECONDS = 7 * 24 * 3600;

/** One answer for every token that does not work: unknown, used, expired or superseded. */
const INVALID_LINK = (): DomainError =>
  new DomainError(
    'invalid_link',
    'This link is not valid: it was used, has expired or was replaced by a newer one',
  );

/** What the account's address is, as its owner sees it. */
export interface EmailState {
  email: string | null;
  emailVerified: boolean;
  verifiedAt: string | null;
}

/**
 * An account's email address: claimed at registration or by a change, verified through a
 * mailed link, usable for logging in once verified. Every token, address change and mail is
 * written in one transaction with the account's row locked; a mailed link is consumed only
 * by a POST (its page's button), never by opening it.
 */
@Injectable()
export class EmailService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: AccountTokenStore,
    private readonly mail: MailService,
    private readonly composer: MailComposer,
    private readonly login: LoginService,
    private readonly logins: LoginsService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /** False with MAIL=off: no address can be verified, so every email route is not there. */
  get enabled(): boolean {
    return this.mail.enabled;
  }

  /** MAIL=off: every email route answers 404. */
  assertEnabled(): void {
    if (!this.mail.enabled) throw new DomainError('not_found', 'Not found');
  }

  /**
   * For a registration with an address: what runs in the account's insert transaction (the
   * token and its mail). Nothing depends on whether another account claims or holds it.
   */
  onRegistration(address: string): (tx: Tx, user: User) => Promise<void> {
    if (!this.mail.enabled)
      throw new DomainError('validation_failed', 'The request is invalid', {
        fields: ['email is not accepted: this service sends no mail'],
      });
    return (tx, user) => this.sendVerification(tx, user.id, address);
  }

  async state(principal: Principal): Promise<EmailState> {
    this.assertEnabled();
    return stateOf(await this.users.getById(principal.userId));
  }

  /**
   * Starts a change to `email` once the current password is right (a wrong one counts against
   * the login throttle). The new address gets a verification link; while the account has a
   * verified address, that one stays until the new one is verified and gets a notice with a
   * link that undoes the change.
   */
  async change(
    principal: Principal,
    email: string,
    currentPassword: string,
    client: ClientInfo,
  ): Promise<void> {
    this.assertEnabled();
    await this.login.confirmPassword(principal, currentPassword, client);
    const done = await this.users.withAccount(
      principal.userId,
      async (tx, user, record) => {
        const old = user.emailVerifiedAt === null ? null : user.email;
        if (sameEmail(old, email))
          throw new DomainError('validation_failed', 'The request is invalid', {
            fields: ['email is already the verified address of this account'],
          });
        // An unverified address protects nothing: the new claim simply replaces it.
        if (old === null) await this.users.setEmail(tx, user.id, email, null);
        await this.sendVerification(tx, user.id, email);
        if (old !== null) await this.sendUndoNotice(tx, user, old, email);
        record({
          type: 'email.change_requested',
          userId: user.id,
          ...ownContext(principal, client),
          details: { email: maskEmail(email) },
        });
        return true;
      },
    );
    if (!done) throw new DomainError('not_found', 'No such user');
  }

  /** A new link for the account's unverified address (the older link stops working). */
  async resend(principal: Principal): Promise<void> {
    this.assertEnabled();
    const done = await this.users.withAccount(
      principal.userId,
      async (tx, user) => {
        if (user.email === null || user.emailVerifiedAt !== null)
          throw new DomainError('validation_failed', 'The request is invalid', {
            fields: ['the account has no unverified address to verify'],
          });
        await this.sendVerification(tx, user.id, user.email);
        return true;
      },
    );
    if (!done) throw new DomainError('not_found', 'No such user');
  }

  /**
   * Uses a verification link: the address on the token becomes the account's verified one.
   * When another account verified that address first: `email_taken` (409), told only to this
   * verifier, and the link stays as it was.
   */
  async verify(
    token: string,
    client: ClientInfo,
  ): Promise<{ email: string; verifiedAt: string }> {
    const user = await this.consumeInAccount(
      'verify_email',
      token,
      async (tx, account, address, record) => {
        const verified = await this.users.setEmail(
          tx,
          account.id,
          address,
          new Date(),
        );
        record({
          type: 'email.verified',
          userId: account.id,
          client,
          details: { email: maskEmail(address) },
        });
        return verified;
      },
    );
    return { email: user.email!, verifiedAt: user.emailVerifiedAt! };
  }

  /**
   * Uses an undo link ("this wasn't me"): the old address is the account's verified one again,
   * every pending link of the account ends, and so does every login.
   */
  async undo(
    token: string,
    client: ClientInfo,
  ): Promise<{ email: string; verifiedAt: string }> {
    const user = await this.consumeInAccount(
      'undo_email_change',
      token,
      async (tx, account, address, record) => {
        const restored = await this.users.setEmail(
          tx,
          account.id,
          address,
          new Date(),
        );
        await this.tokens.endAll(tx, account.id, [
          'verify_email',
          'undo_email_change',
        ]);
        record({
          type: 'email.change_undone',
          userId: account.id,
          client,
          details: { email: maskEmail(address) },
        });
        return restored;
      },
    );
    const ended = await this.logins.endAll(user.id);
    this.metrics.tokensRevoked('email_change_undone', ended.tokens);
    return { email: user.email!, verifiedAt: user.emailVerifiedAt! };
  }

  /** Whether a link's token still works, for its page; never uses it up. */
  async isLive(purpose: AccountTokenPurpose, token: string): Promise<boolean> {
    this.assertEnabled();
    return (await this.tokens.peek(purpose, token)) !== null;
  }

  /**
   * Consumes `token` inside its account's transaction (row locked) and runs `work` there. A
   * peek finds the account first; the consume itself is the one atomic step, so of two
   * callers with one token exactly one gets past it.
   */
  private async consumeInAccount<T>(
    purpose: AccountTokenPurpose,
    token: string,
    work: (
      tx: Tx,
      account: User,
      address: string,
      record: RecordEvent,
    ) => Promise<T>,
  ): Promise<T> {
    this.assertEnabled();
    const found = await this.tokens.peek(purpose, token);
    if (!found) throw INVALID_LINK();
    const result = await this.users.withAccount(
      found.userId,
      async (tx, account, record) => {
        const used = await this.tokens.consume(tx, purpose, token);
        if (!used || used.userId !== account.id || used.email === null)
          throw INVALID_LINK();
        if (account.disabled) throw INVALID_LINK();
        return work(tx, account, used.email, record);
      },
    );
    if (result === null) throw INVALID_LINK();
    return result;
  }

  private async sendVerification(
    tx: Tx,
    userId: string,
    address: string,
  ): Promise<void> {
    const { token } = await this.tokens.issue(tx, {
      userId,
      purpose: 'verify_email',
      ttlSeconds: this.config.emailVerificationTtlSeconds,
      email: address,
    });
    await this.mail.enqueueIn(
      tx,
      this.composer.compose(address, {
        subject: 'Confirm your email address',
        paragraphs: [
          'Someone asked to use this address for an account. If it was you, open the link and press Confirm.',
        ],
        action: {
          label: 'Confirm this address',
          url: this.composer.link(EMAIL_VERIFY_PATH, { token }),
        },
        after: [
          `The link works for ${hours(this.config.emailVerificationTtlSeconds)}. If it was not you, ignore this mail: nothing changes.`,
        ],
      }),
    );
  }

  private async sendUndoNotice(
    tx: Tx,
    user: User,
    old: string,
    next: string,
  ): Promise<void> {
    const { token } = await this.tokens.issue(tx, {
      userId: user.id,
      purpose: 'undo_email_change',
      ttlSeconds: UNDO_TTL_SECONDS,
      email: old,
      // A later change must not end this link: whoever made it would end the owner's way back.
      keepOlder: true,
    });
    await this.mail.enqueueIn(
      tx,
      this.composer.compose(old, {
        subject: 'Your email address is being changed',
        paragraphs: [
          `Someone asked to change the email address of the account ${user.username} from this address to ${maskEmail(next)}.`,
          'If it was you, there is nothing to do. If it was not you, open the link and press the button: this address is restored and every login of the account ends.',
        ],
        action: {
          label: 'This was not me',
          url: this.composer.link(EMAIL_UNDO_PATH, { token }),
        },
        after: [
          'The link works for 7 days. Change your password once you are logged in again.',
        ],
      }),
    );
  }
}

function stateOf(user: User): EmailState {
  return {
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    verifiedAt: user.emailVerifiedAt,
  };
}

function hours(seconds: number): string {
  const h = Math.round(seconds / 3600);
  return h >= 1
    ? `${h} hour${h === 1 ? '' : 's'}`
    : `${Math.round(seconds / 60)} minutes`;
}
