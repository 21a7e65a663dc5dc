import { MetricsService } from '../../src/infra/metrics/metrics.service.js';
import { MailComposer } from '../../src/mail/mail-composer.js';
import type { MailMessage } from '../../src/mail/mail-message.js';
import { MailService } from '../../src/mail/mail.service.js';
import { DatabaseInspector } from './database.js';
import { FILE_MARK, uniqueName } from './logins.js';
import { instanceOf, type TestApp } from './test-app.js';

/** An address of this file's own (its mark in it), so its outbox rows can be found and removed. */
export function mailAddress(prefix = 'to'): string {
  return `${uniqueName(prefix)}@example.test`;
}

/** An outbox row as PostgreSQL holds it. */
export interface OutboxRow {
  id: string;
  recipient: string;
  payload: string | null;
  key_id: string;
  attempts: number;
  created_at: Date;
  next_attempt_at: Date;
  failed_at: Date | null;
  last_error: string | null;
}

/** The outbox rows of `recipients`, read over a connection of the test's own. */
export async function outboxRows(
  recipients: string[],
  url = process.env.DATABASE_URL!,
): Promise<OutboxRow[]> {
  const db = new DatabaseInspector(url);
  try {
    return await db.query<OutboxRow>(
      'select * from mail_outbox where recipient = any($1::text[]) order by created_at',
      [recipients],
    );
  } finally {
    await db.close();
  }
}

/**
 * The mail this file queued and left in the outbox (failed, or never sent): another file's
 * app would otherwise send it.
 */
export async function removeMailOfThisFile(): Promise<void> {
  const database = new DatabaseInspector();
  try {
    const [{ migrated }] = await database.query<{ migrated: boolean }>(
      "select to_regclass('mail_outbox') is not null as migrated",
    );
    if (migrated)
      await database.query(
        'delete from mail_outbox where position($1 in recipient) > 0',
        [FILE_MARK],
      );
  } finally {
    await database.close();
  }
}

/** A message as a flow would build it, with one link carrying `token`. */
export function composedMail(
  t: TestApp,
  to: string,
  token = 'tok-not-a-real-secret',
): MailMessage {
  const composer = instanceOf(t, MailComposer);
  return composer.compose(to, {
    subject: 'Confirm your address',
    paragraphs: ['Someone asked to use this address for an account.'],
    action: {
      label: 'Confirm',
      url: composer.link('/auth/confirm', { token }),
    },
    after: ['If it was not you, ignore this mail.'],
  });
}

export function mailService(t: TestApp): MailService {
  return instanceOf(t, MailService);
}

/** One sample of the app's own metrics (no labels), read through its MetricsService. */
export async function metric(t: TestApp, name: string): Promise<number> {
  const text = await instanceOf(t, MetricsService).scrape();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

/** Gives the account a verified address, as the email flows would: straight in the database. */
export async function giveVerifiedEmail(
  userId: string,
  email = mailAddress(),
): Promise<string> {
  const db = new DatabaseInspector();
  try {
    await db.query(
      'update users set email = $1, email_verified_at = now() where id = $2',
      [email, userId],
    );
  } finally {
    await db.close();
  }
  return email;
}

/** The password-reset link in a mail's text part (the one link), with its token. */
export function resetLinkIn(text: string | undefined): {
  url: string;
  token: string;
} {
  const match =
    /(https?:\/\/\S+\/auth\/password\/reset\?token=([A-Za-z0-9_-]+))/.exec(
      text ?? '',
    );
  if (!match) throw new Error(`no reset link in: ${text}`);
  return { url: match[1], token: match[2] };
}
