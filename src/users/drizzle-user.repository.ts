import { Injectable } from '@nestjs/common';
import { and, asc, eq, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { SecurityEventInput } from '../events/security-event.js';
import { SecurityEvents, type RecordEvent } from '../events/security-events.js';
import { Database, type Tx } from '../infra/db/database.js';
import { DomainError } from '../infra/http/domain-error.js';
import { isUniqueViolation } from '../infra/db/database-errors.js';
import { users } from '../infra/db/schema.js';
import { EMAIL_MAX, USERNAME_PATTERN, type Role, type User } from './user.js';
import {
  ChangeEvents,
  TransactionWork,
  UserListQuery,
  UserPage,
  UserPatch,
  UserRepository,
} from './user.repository.js';

type Row = typeof users.$inferSelect;

function toUser(row: Row): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.passwordHash,
    roles: row.roles as Role[],
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    passwordChangedAt: row.passwordChangedAt.toISOString(),
    email: row.email,
    emailVerifiedAt: row.emailVerifiedAt?.toISOString() ?? null,
  };
}

function toRow(user: User): typeof users.$inferInsert {
  return {
    ...user,
    createdAt: new Date(user.createdAt),
    updatedAt: new Date(user.updatedAt),
    passwordChangedAt: new Date(user.passwordChangedAt),
    emailVerifiedAt:
      user.emailVerifiedAt === null ? null : new Date(user.emailVerifiedAt),
  };
}

/** `\`, `%` and `_` taken literally in a LIKE pattern (backslash is PostgreSQL's default escape). */
function likePrefix(prefix: string): string {
  return `${prefix.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
}

const lowerUsername = sql`lower(${users.username})`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Accounts in PostgreSQL or PGlite through Drizzle: one statement per read, each under the
 * database's deadline; a change is one transaction with its security events. Timestamps are
 * written from JavaScript, at the millisecond precision the listing cursor carries.
 */
@Injectable()
export class DrizzleUserRepository extends UserRepository {
  constructor(
    private readonly database: Database,
    private readonly events: SecurityEvents,
  ) {
    super();
  }

  async create(
    user: User,
    events: SecurityEventInput[] = [],
    also?: (tx: Tx) => Promise<void>,
  ): Promise<boolean> {
    if (also) return this.createWith(user, events, also);
    try {
      // One statement, the event included: the unique index on lower(username) decides,
      // atomically, between simultaneous registrations.
      return await this.events.withChange(
        this.database.db
          .insert(users)
          .values(toRow(user))
          .onConflictDoNothing()
          .returning({ id: users.id }),
        events,
      );
    } catch (err) {
      // ON CONFLICT covers the index; this also covers a conflict it cannot see (none today).
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** The insert, then `also`, in one transaction with the events (only when the row went in). */
  private async createWith(
    user: User,
    events: SecurityEventInput[],
    also: (tx: Tx) => Promise<void>,
  ): Promise<boolean> {
    return this.events.inTransaction(async (tx, record) => {
      const inserted = await tx
        .insert(users)
        .values(toRow(user))
        .onConflictDoNothing()
        .returning({ id: users.id });
      if (inserted.length === 0) return false;
      await also(tx);
      events.forEach(record);
      return true;
    });
  }

  async findById(id: string): Promise<User | null> {
    // Not a uuid: no such user, and PostgreSQL would refuse the comparison (a 500).
    if (!UUID.test(id)) return null;
    return this.one(eq(users.id, id));
  }

  async findByUsername(username: string): Promise<User | null> {
    // No stored name has other characters; a NUL would even make PostgreSQL refuse the query.
    if (!USERNAME_PATTERN.test(username)) return null;
    return this.one(sql`${lowerUsername} = lower(${username})`);
  }

  async findByVerifiedEmail(email: string): Promise<User | null> {
    // Nothing longer or with a NUL was ever stored; PostgreSQL would refuse a NUL (a 500).
    if (email.length > EMAIL_MAX || email.includes('\0')) return null;
    return this.one(
      and(
        sql`lower(${users.email}) = lower(${email})`,
        isNotNull(users.emailVerifiedAt),
      )!,
    );
  }

  async withAccount<T>(
    id: string,
    work: (tx: Tx, user: User, record: RecordEvent) => Promise<T>,
  ): Promise<T | null> {
    if (!UUID.test(id)) return null;
    return this.events.inTransaction(async (tx, record) => {
      const [row] = await tx
        .select()
        .from(users)
        .where(eq(users.id, id))
        .for('update');
      return row ? work(tx, toUser(row), record) : null;
    });
  }

  async setEmail(
    tx: Tx,
    id: string,
    email: string | null,
    verifiedAt: Date | null,
  ): Promise<User> {
    try {
      const [row] = await tx
        .update(users)
        .set({ email, emailVerifiedAt: verifiedAt, updatedAt: new Date() })
        .where(eq(users.id, id))
        .returning();
      return toUser(row);
    } catch (err) {
      // The partial unique index on lower(email) among verified addresses decides, atomically.
      if (isUniqueViolation(err))
        throw new DomainError(
          'email_taken',
          'That email address is already verified by another account',
        );
      throw err;
    }
  }

  async update(
    id: string,
    patch: UserPatch,
    events: ChangeEvents,
  ): Promise<User | null> {
    if (!UUID.test(id)) return null;
    return this.transaction((_, change) => change(id, patch, events));
  }

  async transaction<T>(work: TransactionWork<T>): Promise<T> {
    return this.events.inTransaction((tx, record) =>
      work(
        tx,
        (id, patch, events) => this.updateIn(tx, record, id, patch, events),
        record,
      ),
    );
  }

  private async updateIn(
    tx: Tx,
    record: RecordEvent,
    id: string,
    patch: UserPatch,
    events: ChangeEvents,
  ): Promise<User | null> {
    if (!UUID.test(id)) return null;
    const now = new Date();
    const set = {
      ...patch,
      updatedAt: now,
      ...(patch.passwordHash !== undefined && { passwordChangedAt: now }),
    };
    // The row is locked first, so the events compare it with what this change made of it.
    const [before] = await tx
      .select()
      .from(users)
      .where(eq(users.id, id))
      .for('update');
    if (!before) return null;
    const [after] = await tx
      .update(users)
      .set(set)
      .where(eq(users.id, id))
      .returning();
    const user = toUser(after);
    events(toUser(before), user).forEach(record);
    return user;
  }

  async rehash(id: string, from: string, to: string): Promise<void> {
    await this.database.run(() =>
      this.database.db
        .update(users)
        .set({ passwordHash: to })
        .where(and(eq(users.id, id), eq(users.passwordHash, from))),
    );
  }

  async list(query: UserListQuery): Promise<UserPage> {
    const conditions: SQL[] = [];
    if (query.usernamePrefix)
      conditions.push(
        sql`${lowerUsername} like ${likePrefix(query.usernamePrefix)}`,
      );
    if (query.after)
      conditions.push(
        sql`(${users.createdAt}, ${users.id}) > (${query.after.createdAt}::timestamptz, ${query.after.id}::uuid)`,
      );
    // One row more than asked tells whether there is a next page.
    const rows = await this.database.run(() =>
      this.database.db
        .select()
        .from(users)
        .where(and(...conditions))
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(query.limit + 1),
    );
    const items = rows.slice(0, query.limit).map(toUser);
    const last = items.at(-1);
    return rows.length > query.limit && last
      ? { items, next: { createdAt: last.createdAt, id: last.id } }
      : { items };
  }

  private async one(where: SQL): Promise<User | null> {
    const rows = await this.database.run(() =>
      this.database.db.select().from(users).where(where).limit(1),
    );
    return rows[0] ? toUser(rows[0]) : null;
  }
}
