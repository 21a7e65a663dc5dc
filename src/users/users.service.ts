import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type {
  EventContext,
  SecurityEventInput,
} from '../events/security-event.js';
import type { RecordEvent } from '../events/security-events.js';
import type { Tx } from '../infra/db/database.js';
import { DomainError } from '../infra/http/domain-error.js';
import { AccountTokenStore } from './account-token.store.js';
import { PasswordHasher } from './password-hasher.js';
import { assertPasswordPolicy } from './password-policy.js';
import { Role, User } from './user.js';
import { UserListQuery, UserPage, UserRepository } from './user.repository.js';

@Injectable()
export class UsersService {
  private readonly logger = new Logger('Users');

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: AccountTokenStore,
  ) {}

  /**
   * Creates an account; `context` says where from, for its `account.registered` event. With
   * `email`, the address is stored unverified and `email.also` runs in the insert's
   * transaction (the verification token and its mail).
   */
  async register(
    username: string,
    password: string,
    roles: Role[] = ['user'],
    context: EventContext = {},
    email?: { address: string; also: (tx: Tx, user: User) => Promise<void> },
  ): Promise<User> {
    assertPasswordPolicy(password);
    const now = new Date().toISOString();
    const user: User = {
      id: randomUUID(),
      username,
      passwordHash: await this.hasher.hash(password),
      roles,
      disabled: false,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
      email: email?.address ?? null,
      emailVerifiedAt: null,
    };
    // One insert: the unique index decides, so a taken name costs a hash but no extra query.
    const registered: SecurityEventInput = {
      type: 'account.registered',
      userId: user.id,
      client: context.client,
      details: { roles },
    };
    const also = email && ((tx: Tx) => email.also(tx, user));
    if (!(await this.users.create(user, [registered], also)))
      throw new DomainError('username_taken', 'That username is taken');
    return user;
  }

  /**
   * The same error, after the same work, for an unknown user, a wrong password and a disabled
   * account. `beforeCheck` runs once the account is found, before its password is hashed.
   */
  async verifyCredentials(
    username: string,
    password: string,
    beforeCheck?: (user: User) => Promise<void>,
  ): Promise<User> {
    const user = await this.findForLogin(username);
    if (user && beforeCheck) await beforeCheck(user);
    const valid = user
      ? await this.verifyPassword(user, password)
      : await this.hasher.verifyDummy(password);
    if (!user || !valid || user.disabled) {
      throw new DomainError('invalid_grant', 'Invalid username or password');
    }
    return user;
  }

  /**
   * The account a typed login names: the username first (case-insensitive), then a verified
   * email address; an unverified address never names an account.
   */
  async findForLogin(login: string): Promise<User | null> {
    const byName = await this.users.findByUsername(login);
    if (byName || !login.includes('@')) return byName;
    return this.users.findByVerifiedEmail(login);
  }

  /** See `UserRepository.withAccount`: the account's row locked, for the email flows. */
  withAccount<T>(
    id: string,
    work: (tx: Tx, user: User, record: RecordEvent) => Promise<T>,
  ): Promise<T | null> {
    return this.users.withAccount(id, work);
  }

  /** See `UserRepository.setEmail`: `email_taken` when another account verified it first. */
  setEmail(
    tx: Tx,
    id: string,
    email: string | null,
    verifiedAt: Date | null,
  ): Promise<User> {
    return this.users.setEmail(tx, id, email, verifiedAt);
  }

  /**
   * Checks a user's password; a right one stored under an older scheme or weaker cost is
   * rehashed with the configured argon2id, off the caller's path (a failed rehash only waits
   * for the next login).
   */
  async verifyPassword(user: User, password: string): Promise<boolean> {
    const check = await this.hasher.verify(password, user.passwordHash);
    if (check.valid && check.rehash)
      this.rehash(user, password).catch((err: unknown) =>
        this.logger.warn(
          `Rehash of user ${user.id} deferred: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    return check.valid;
  }

  private async rehash(user: User, password: string): Promise<void> {
    const stronger = await this.hasher.hash(password);
    await this.users.rehash(user.id, user.passwordHash, stronger);
  }

  /**
   * Sets a new password; `context` is the owner's, for its `password.changed` event. `alsoIn`
   * writes what goes with the change (a notice) in its transaction.
   */
  async changePassword(
    userId: string,
    newPassword: string,
    context: EventContext = {},
    alsoIn?: (tx: Tx, user: User) => Promise<void>,
  ): Promise<void> {
    const { passwordHash } = await this.preparePassword(newPassword);
    const changed = await this.users.transaction(async (tx, change) => {
      const user = await change(userId, { passwordHash }, (_, after) => [
        { type: 'password.changed', userId: after.id, ...context },
      ]);
      if (user && alsoIn) await alsoIn(tx, user);
      return user;
    });
    if (!changed) throw new DomainError('not_found', 'No such user');
  }

  /** A new password checked against the policy and hashed, ready for `resetPassword`. */
  async preparePassword(newPassword: string): Promise<PreparedPassword> {
    assertPasswordPolicy(newPassword, 'newPassword');
    return { passwordHash: await this.hasher.hash(newPassword) };
  }

  /**
   * A new reset link for `user`, valid `ttlSeconds` (older ones of the account end), in one
   * transaction with its `password.reset_requested` event and the mail `mailIn` queues with it.
   */
  async issueResetLink(
    user: User,
    ttlSeconds: number,
    context: EventContext,
    mailIn: (tx: Tx, token: string) => Promise<void>,
  ): Promise<void> {
    await this.users.transaction(async (tx, _change, record) => {
      const { token } = await this.tokens.issue(tx, {
        userId: user.id,
        purpose: 'reset_password',
        ttlSeconds,
      });
      await mailIn(tx, token);
      record({ type: 'password.reset_requested', userId: user.id, ...context });
    });
  }

  /** The account a live reset link is for (without using the link), or null. */
  async resetTarget(token: string): Promise<User | null> {
    const live = await this.tokens.peek('reset_password', token);
    if (!live) return null;
    const user = await this.users.findById(live.userId);
    return user && !user.disabled ? user : null;
  }

  /**
   * Uses up a reset link and sets the password it was for, in one transaction with the
   * `password.reset` event and what `alsoIn` writes (the notice): all of it, or none. A link
   * that is unknown, used, expired, superseded or of a disabled account: `invalid_token`, the
   * same for each.
   */
  async resetPassword(
    token: string,
    prepared: PreparedPassword,
    context: EventContext,
    details: Record<string, unknown>,
    alsoIn: (tx: Tx, user: User) => Promise<void>,
  ): Promise<User> {
    return this.users.transaction(async (tx, change) => {
      const link = await this.tokens.consume(tx, 'reset_password', token);
      const user =
        link &&
        (await change(
          link.userId,
          { passwordHash: prepared.passwordHash },
          (before, after) =>
            before.disabled
              ? []
              : [
                  {
                    type: 'password.reset',
                    userId: after.id,
                    ...context,
                    details,
                  },
                ],
        ));
      // Thrown inside: the consumed link of a disabled account rolls back with it.
      if (!user || user.disabled) throw invalidResetLink();
      await alsoIn(tx, user);
      return user;
    });
  }

  /**
   * The account a login names, for a reset request: by username, or by an address verified
   * for it; null for none (or a disabled one).
   */
  async findForReset(login: string): Promise<User | null> {
    const user = login.includes('@')
      ? ((await this.users.findByVerifiedEmail(login)) ??
        (await this.users.findByUsername(login)))
      : await this.users.findByUsername(login);
    return user && !user.disabled ? user : null;
  }

  async getById(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new DomainError('not_found', 'No such user');
    return user;
  }

  /**
   * An admin's change of roles or the disabled flag; each change it makes (a retry that changes
   * nothing makes none) is an event naming the admin, written with it.
   */
  async update(
    id: string,
    patch: { roles?: Role[]; disabled?: boolean },
    admin: EventContext = {},
  ): Promise<User> {
    const user = await this.users.update(id, patch, (before, after) =>
      adminChanges(before, after).map((change) => ({
        ...change,
        userId: after.id,
        actorId: admin.actorId,
        client: admin.client,
      })),
    );
    if (!user) throw new DomainError('not_found', 'No such user');
    return user;
  }

  async list(query: UserListQuery): Promise<UserPage> {
    return this.users.list(query);
  }

  /** Creates the configured admin account once; never touches an existing account's password. */
  async ensureAdmin(
    username: string,
    password: string,
  ): Promise<'created' | 'exists'> {
    if (await this.users.findByUsername(username)) return 'exists';
    try {
      await this.register(username, password, ['user', 'admin']);
      return 'created';
    } catch (err) {
      if (err instanceof DomainError && err.code === 'username_taken')
        return 'exists';
      throw err;
    }
  }
}

/** A new password, checked and hashed, not yet stored. */
export interface PreparedPassword {
  passwordHash: string;
}

export function invalidResetLink(): DomainError {
  return new DomainError(
    'invalid_link',
    'This link is no longer valid; ask for a new one',
  );
}

/** The events of an admin's change: what differs between the account before and after it. */
function adminChanges(
  before: User,
  after: User,
): Pick<SecurityEventInput, 'type' | 'details'>[] {
  const changes: Pick<SecurityEventInput, 'type' | 'details'>[] = [];
  const sameRoles =
    before.roles.length === after.roles.length &&
    before.roles.every((role) => after.roles.includes(role));
  if (!sameRoles)
    changes.push({
      type: 'admin.roles_changed',
      details: { old: before.roles, new: after.roles },
    });
  if (!before.disabled && after.disabled)
    changes.push({ type: 'admin.account_disabled' });
  if (before.disabled && !after.disabled)
    changes.push({ type: 'admin.account_enabled' });
  return changes;
}
