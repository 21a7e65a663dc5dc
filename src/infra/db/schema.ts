import { isNotNull, isNull, sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) =>
  timestamp(name, { withTimezone: true, mode: 'date' }).notNull();

/**
 * Accounts. `UserRepository` (src/users) is their only writer; the personal-token store reads
 * the columns a token's principal carries, joined to the token in its one lookup query.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    username: text('username').notNull(),
    /** The PHC-style string of src/users/password-hasher.ts, never the password. */
    passwordHash: text('password_hash').notNull(),
    roles: text('roles').array().notNull(),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: timestamptz('created_at'),
    updatedAt: timestamptz('updated_at'),
    passwordChangedAt: timestamptz('password_changed_at'),
    /** The account's address: claimed (unverified) or verified. Optional. */
    email: text('email'),
    /** When `email` was verified; null while it is only claimed. */
    emailVerifiedAt: timestamp('email_verified_at', {
      withTimezone: true,
      mode: 'date',
    }),
  },
  (t) => [
    // Uniqueness is case-insensitive; the index also serves lookups by lower(username).
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    // A verified address belongs to one account; a claimed one may be claimed by several
    // (the first to verify gets it), so registration never tells that an address is taken.
    uniqueIndex('users_verified_email_lower_key')
      .on(sql`lower(${t.email})`)
      .where(isNotNull(t.emailVerifiedAt)),
    // The admin listing's keyset order.
    index('users_created_at_id_idx').on(t.createdAt, t.id),
  ],
);

/**
 * Personal access tokens, by the SHA-256 of the secret (never the secret). `PersonalTokenStore`
 * (src/credentials) is the only reader and writer. Revoking deletes the row; an expired row
 * goes 30 days after its expiry (PersonalTokenPurge).
 */
export const personalTokens = pgTable(
  'personal_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The secret's first characters, shown in listings. */
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: timestamptz('created_at'),
    expiresAt: timestamptz('expires_at'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('personal_tokens_token_hash_key').on(t.tokenHash),
    // A user's listing, newest first, and the lookups that invalidate a user's tokens.
    index('personal_tokens_user_id_created_at_idx').on(t.userId, t.createdAt),
    // The purge of long-expired tokens.
    index('personal_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/**
 * Single-use links mailed to an account (verify an address, undo an address change, reset the
 * password), by the SHA-256 of the token (never the token). `AccountTokenStore` (src/users)
 * is the only reader and writer. A newer token of one purpose ends the older ones.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** `verify_email`, `undo_email_change` or `reset_password`. */
    purpose: text('purpose').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The address the token is about: the one to verify, or the one an undo restores. */
    email: text('email'),
    createdAt: timestamptz('created_at'),
    expiresAt: timestamptz('expires_at'),
    /** Used, or ended by a newer token of its purpose; a token works while this is null. */
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('account_tokens_token_hash_key').on(t.tokenHash),
    index('account_tokens_user_id_purpose_idx').on(t.userId, t.purpose),
    index('account_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/**
 * The outbox: mail waiting to be sent, written in the transaction of whatever it tells about.
 * `MailOutboxStore` (src/mail) is the only reader and writer. A row holds no message in clear:
 * `payload` is the subject and both parts, encrypted with a key derived from SESSION_SECRET
 * (so a dump of the table holds no working link). A sent mail's row is deleted; a failed
 * one keeps its recipient and last error, without its payload, for a week.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: uuid('id').primaryKey(),
    recipient: text('recipient').notNull(),
    /** AES-256-GCM: base64url of IV, tag and ciphertext; null once the mail has failed. */
    payload: text('payload'),
    /** Which secret's key encrypted the payload (a hash of the key, never the key). */
    keyId: text('key_id').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: timestamptz('created_at').defaultNow(),
    /** When it may be claimed: its next try, or the end of the lease of the instance sending it. */
    nextAttemptAt: timestamptz('next_attempt_at').defaultNow(),
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
  },
  (t) => [
    // The claim: due rows first; failed ones never.
    index('mail_outbox_due_idx').on(t.nextAttemptAt).where(isNull(t.failedAt)),
    // The purge of failed rows.
    index('mail_outbox_failed_at_idx')
      .on(t.failedAt)
      .where(isNotNull(t.failedAt)),
  ],
);

/**
 * The security-event record, append-only: `SecurityEventStore` (src/events) is its only reader
 * and writer, and rows leave only through the retention job. No foreign keys: a row outlives
 * the account it names. Never a password, token, session id, hash or secret.
 */
export const securityEvents = pgTable(
  'security_events',
  {
    /** Made by the app when the event happens, so a retried batch or a second instance never duplicates it. */
    id: uuid('id').primaryKey(),
    occurredAt: timestamptz('occurred_at'),
    type: text('type').notNull(),
    /** The account the event concerns; null when there is none. */
    userId: uuid('user_id'),
    /** Who acted, when not the account itself (an admin). */
    actorId: uuid('actor_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** The public login id (never a session id or token) the event belongs to. */
    loginId: text('login_id'),
    details: jsonb('details')
      .$type<Record<string, unknown>>()
      .notNull()
      .default({}),
    /** How many occurrences the row stands for (coalesced `login.throttled`); 1 otherwise. */
    count: integer('count').notNull().default(1),
    /** Rows with one key are one row, counted up (`login.throttled:<userId>:<minute>`). */
    coalesceKey: text('coalesce_key'),
  },
  (t) => [
    uniqueIndex('security_events_coalesce_key_key').on(t.coalesceKey),
    // An account's events, newest first, keyset by (occurred_at, id).
    index('security_events_user_id_occurred_at_id_idx').on(
      t.userId,
      t.occurredAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    // Every event in time order: the admin listing and the retention job.
    index('security_events_occurred_at_id_idx').on(t.occurredAt, t.id),
    index('security_events_type_occurred_at_idx').on(t.type, t.occurredAt),
  ],
);

export const schema = {
  users,
  personalTokens,
  accountTokens,
  mailOutbox,
  securityEvents,
};
