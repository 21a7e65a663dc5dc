import { jest } from '@jest/globals';
import { DomainError } from '../common/domain-error.js';
import { PasswordHasher } from './password-hasher.js';
import type { Role, User } from './user.js';
import { UserPage, UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

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
  async list(): Promise<UserPage> {
    return { items: [...this.byId.values()] };
  }
}

describe('UsersService.verifyCredentials', () => {
  const password = 'plum-orbit-tundra-47';
  let hasher: PasswordHasher;
  let service: UsersService;

  beforeAll(async () => {
    hasher = new PasswordHasher();
    service = new UsersService(new MemoryUsers(), hasher);
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
    // The dummy check runs the same scrypt verification as a real one.
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
