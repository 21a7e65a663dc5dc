import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) =>
  timestamp(name, { withTimezone: true, mode: 'date' }).notNull();

/** Accounts. The one table; `UserRepository` (src/users) is its only reader and writer. */
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
  },
  (t) => [
    // Uniqueness is case-insensitive; the index also serves lookups by lower(username).
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    // The admin listing's keyset order.
    index('users_created_at_id_idx').on(t.createdAt, t.id),
  ],
);

export const schema = { users };
