import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../infra/http/domain-error.js';
import { loadConfig } from '../infra/config/app-config.js';
import { PasswordHasher } from './password-hasher.js';
import { scrypt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS } from './scrypt.js';
import type { Role, User } from './user.js';
import type { AccountTokenStore } from './account-token.store.js';
import {
  UserPage,
  UserRepository,
  type TransactionWork,
} from './user.repository.js';
import { UsersService } from './users.service.js';

/** The rules under test read no mailed-link tokens. */
const NO_TOKENS = {} as AccountTokenStore;

/** An in-memory repository: the rules under test are the service's, not the store's. */
class MemoryUsers extends UserRepository {
  readonly byId = new Map<string, User>();
  async create(user: User): Promise<boolean> {
    if (
      [...this.byId.values()].some(
        (u) => u.username.toLowerCase() === user.username.toLowerCase(),
      )
    )
      return false;
    this.byId.set(user.id, user);
    return true;
  }
  async findById(id: string): Promise<User | null> {
    return this.byId.get(id) ?? null;
  }
  async findByUsername(username: string): Promise<User | null> {
    return (
      [...this.byId.values()].find(
        (u) => u.username.toLowerCase() === username.toLowerCase(),
      ) ?? null
    );
  }
  async findByVerifiedEmail(email: string): Promise<User | null> {
    return (
      [...this.byId.values()].find(
        (u) =>
          u.emailVerifiedAt !== null &&
          u.email?.toLowerCase() === email.toLowerCase(),
      ) ?? null
    );
  }
  withAccount(): Promise<never> {
    throw new Error('not used by these tests');
  }
  setEmail(): Promise<never> {
    throw new Error('not used by these tests');
  }
  async update(
    id: string,
    patch: Partial<User> & { roles?: Role[] },
  ): Promise<User | null> {
    const user = this.byId.get(id);
    if (!user) return null;
    const updated = { ...user, ...patch };
    this.byId.set(id, updated);
    return updated;
  }
  transaction<T>(_work: TransactionWork<T>): Promise<T> {
    return Promise.reject(new Error('no transactions in memory'));
  }
  async rehash(id: string, from: string, to: string): Promise<void> {
    const user = this.byId.get(id);
    if (user?.passwordHash === from)
      this.byId.set(id, { ...user, passwordHash: to });
  }
  async list(): Promise<UserPage> {
    return { items: [...this.byId.values()] };
  }
}

describe('UsersService.verifyCredentials', () => {
  const password = 'plum-orbit-tundra-47';
  let hasher: PasswordHasher;
  let service: UsersService;

  beforeAll(async () => {
    hasher = new PasswordHasher(loadConfig({}, false));
    service = new UsersService(new MemoryUsers(), hasher, NO_TOKENS);
    await service.register('alice', password);
    const disabled = await service.register('mallory', password);
    await service.update(disabled.id, { disabled: true });
  });

  it('spends a full hash on an unknown user, as on a known one', async () => {
    const dummy = jest.spyOn(hasher, 'verifyDummy');
    const real = jest.spyOn(hasher, 'verify');
    await expect(service.verifyCredentials('nobody', password)).rejects.toThrow(
      DomainError,
    );
    expect(dummy).toHaveBeenCalledTimes(1);
    // The dummy check runs the same argon2id verification as a real one.
    expect(real).toHaveBeenCalledTimes(1);
    dummy.mockRestore();
    real.mockRestore();
  });

  it.each([
    ['an unknown user', 'nobody', password],
    ['a wrong password', 'alice', 'wrong-password-123'],
    ['a disabled account', 'mallory', password],
  ])(
    'refuses %s with the same invalid_grant error',
    async (_, username, attempt) => {
      const error = await service
        .verifyCredentials(username, attempt)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        code: 'invalid_grant',
        message: 'Invalid username or password',
      });
    },
  );

  it('accepts the right password, whatever the case of the username', async () => {
    await expect(
      service.verifyCredentials('ALICE', password),
    ).resolves.toMatchObject({ username: 'alice' });
  });
});

describe('UsersService rehashing', () => {
  const password = 'quartz-lantern-meadow-82';

  it('rehashes a right password stored as scrypt to argon2id, keeping passwordChangedAt', async () => {
    const users = new MemoryUsers();
    const hasher = new PasswordHasher(loadConfig({}, false));
    const service = new UsersService(users, hasher, NO_TOKENS);
    const user = await service.register('legacy', password);
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS);
    const legacy = `scrypt$17$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    users.byId.set(user.id, { ...user, passwordHash: legacy });
    const rehashed = new Promise<void>((resolve) => {
      const original = users.rehash.bind(users);
      users.rehash = async (...args) => {
        await original(...args);
        resolve();
      };
    });

    await expect(
      service.verifyCredentials('legacy', password),
    ).resolves.toMatchObject({ id: user.id });
    await rehashed;
    const stored = users.byId.get(user.id);
    expect(stored?.passwordHash).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
    );
    expect(stored?.passwordChangedAt).toBe(user.passwordChangedAt);
    await expect(
      service.verifyCredentials('legacy', password),
    ).resolves.toMatchObject({ id: user.id });
  });

  it('leaves a wrong password against a scrypt hash alone', async () => {
    const users = new MemoryUsers();
    const service = new UsersService(
      users,
      new PasswordHasher(loadConfig({}, false)),
      NO_TOKENS,
    );
    const user = await service.register('legacy2', password);
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS);
    const legacy = `scrypt$17$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    users.byId.set(user.id, { ...user, passwordHash: legacy });
    const rehash = jest.spyOn(users, 'rehash');
    await expect(
      service.verifyCredentials('legacy2', 'wrong-password-1234'),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(rehash).not.toHaveBeenCalled();
    expect(users.byId.get(user.id)?.passwordHash).toBe(legacy);
  });
});
