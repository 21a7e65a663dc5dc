import { Injectable } from '@nestjs/common';
import type { Tx } from '../infra/db/database.js';
import { MailComposer } from '../mail/mail-composer.js';
import { MailService } from '../mail/mail.service.js';
import type { User } from '../users/user.js';

/** What a reset ended, for its notice. */
export interface ResetEffects {
  logins: number;
  /** Personal tokens revoked; null when they were kept. */
  personalTokens: number | null;
}

/**
 * The mails that tell a person what happened to their account, to its verified address only
 * (an address merely claimed may be someone else's): queued in the transaction of the change
 * they tell about, so a change that rolls back sends nothing. No account address, or MAIL=off:
 * no notice.
 */
@Injectable()
export class AccountNotices {
  constructor(
    private readonly mail: MailService,
    private readonly composer: MailComposer,
  ) {}

  /** The mail carrying a reset link; the link's token exists only in it (and in the outbox, sealed). */
  async resetLink(
    tx: Tx,
    user: User,
    token: string,
    ttlSeconds: number,
  ): Promise<void> {
    const to = verifiedAddress(user);
    if (!to || !this.mail.enabled) return;
    const minutes = Math.max(1, Math.round(ttlSeconds / 60));
    await this.mail.enqueueIn(
      tx,
      this.composer.compose(to, {
        subject: 'Reset your password',
        paragraphs: [
          `Someone asked to reset the password of the account ${user.username}.`,
          `The link works once, for ${minutes} minute${minutes === 1 ? '' : 's'}; a newer link ends this one.`,
        ],
        action: {
          label: 'Choose a new password',
          url: this.composer.link('/auth/password/reset', { token }),
        },
        after: [
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ],
      }),
    );
  }

  async passwordChanged(tx: Tx, user: User): Promise<void> {
    await this.notify(tx, user, 'Your password was changed', [
      `The password of the account ${user.username} was changed, and every other login of it was ended.`,
      'If this was not you, reset your password at once from the login page ("Forgot your password?").',
    ]);
  }

  async passwordReset(
    tx: Tx,
    user: User,
    effects: ResetEffects,
  ): Promise<void> {
    const logins = `${effects.logins} login${effects.logins === 1 ? '' : 's'}`;
    const tokens =
      effects.personalTokens === null
        ? 'Your personal access tokens were kept.'
        : `${effects.personalTokens} personal access token${effects.personalTokens === 1 ? ' was' : 's were'} revoked.`;
    await this.notify(tx, user, 'Your password was reset', [
      `The password of the account ${user.username} was reset through a mailed link.`,
      `Every login of the account was ended (${logins}): sessions, access tokens and refresh tokens. ${tokens}`,
      'If this was not you, reset your password again at once and tell an administrator.',
    ]);
  }

  async personalTokenCreated(
    tx: Tx,
    user: User,
    token: { name: string; prefix: string },
  ): Promise<void> {
    await this.notify(tx, user, 'A personal access token was created', [
      `A personal access token named "${token.name}" (${token.prefix}…) was created for the account ${user.username}.`,
      'If this was not you, revoke it on your account page and change your password.',
    ]);
  }

  private async notify(
    tx: Tx,
    user: User,
    subject: string,
    paragraphs: string[],
  ): Promise<void> {
    const to = verifiedAddress(user);
    if (!to || !this.mail.enabled) return;
    await this.mail.enqueueIn(
      tx,
      this.composer.compose(to, { subject, paragraphs }),
    );
  }
}

function verifiedAddress(user: User): string | null {
  return user.email && user.emailVerifiedAt ? user.email : null;
}
