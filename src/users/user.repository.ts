import type { SecurityEventInput } from '../events/security-event.js';
import type { RecordEvent } from '../events/security-events.js';
import type { Tx } from '../infra/db/database.js';
import type { Role, User } from './user.js';

/** A place in the listing order (creation time, then id): the page after it starts past it. */
interface UserListPosition {
  createdAt: string;
  id: string;
}

export interface UserListQuery {
  limit: number;
  after?: UserListPosition;
  /** Only usernames starting with this, case-insensitively; taken literally (no wildcards). */
  usernamePrefix?: string;
}

export interface UserPage {
  items: User[];
  /** Where the next page starts; absent on the last page. */
  next?: UserListPosition;
}

export type UserPatch = Partial<Pick<User, 'disabled' | 'passwordHash'>> & {
  roles?: Role[];
};

/** The security events of an account's change, from the account before and after it. */
export type ChangeEvents = (before: User, after: User) => SecurityEventInput[];

/** An account's change inside a `transaction`: as `update`, in that transaction. */
type ChangeIn = (
  id: string,
  patch: UserPatch,
  events: ChangeEvents,
) => Promise<User | null>;

/** What runs in a `transaction`: its handle (for other stores' writes), the change, the events. */
export type TransactionWork<T> = (
  tx: Tx,
  change: ChangeIn,
  record: RecordEvent,
) => Promise<T>;

/**
 * Storage for accounts: the `users` table of PostgreSQL (or the embedded PGlite). A change
 * writes its security events in its own transaction: both or neither.
 */
export abstract class UserRepository {
  /**
   * Stores the user, and `events` with it, unless the username (case-insensitive) is taken;
   * false when taken. `also` runs in the same transaction once the row is in (a mail to queue).
   */
  abstract create(
    user: User,
    events?: SecurityEventInput[],
    also?: (tx: Tx) => Promise<void>,
  ): Promise<boolean>;
  abstract findById(id: string): Promise<User | null>;
  abstract findByUsername(username: string): Promise<User | null>;
  /** The account whose verified address is `email` (case-insensitive); never an unverified one. */
  abstract findByVerifiedEmail(email: string): Promise<User | null>;
  /**
   * Runs `work` in one transaction with the account's row locked (null when no such account),
   * with the events it records: the email flows' token, mail and address change commit together.
   */
  abstract withAccount<T>(
    id: string,
    work: (tx: Tx, user: User, record: RecordEvent) => Promise<T>,
  ): Promise<T | null>;
  /**
   * Sets the account's address and when it was verified, in `work`'s transaction; throws
   * `email_taken` when another account has verified that address.
   */
  abstract setEmail(
    tx: Tx,
    id: string,
    email: string | null,
    verifiedAt: Date | null,
  ): Promise<User>;
  /**
   * Applies the patch, sets `updatedAt` (and `passwordChangedAt` with a new hash), and writes
   * the events `events` makes of the change; null when no such user.
   */
  abstract update(
    id: string,
    patch: UserPatch,
    events: ChangeEvents,
  ): Promise<User | null>;
  /**
   * Runs `work` in one transaction with its events: a change of an account and whatever else
   * the caller writes with it (a consumed link, a mail), committed together or not at all.
   */
  abstract transaction<T>(work: TransactionWork<T>): Promise<T>;
  /**
   * Replaces a password hash with a stronger hash of the same password, unless the hash has
   * changed meanwhile (a password change wins); `passwordChangedAt` stays as it is.
   */
  abstract rehash(id: string, from: string, to: string): Promise<void>;
  /** Users oldest first (ties by id), a page at a time. */
  abstract list(query: UserListQuery): Promise<UserPage>;
}
