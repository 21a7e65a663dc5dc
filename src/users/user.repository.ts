import type { Role, User } from './user.js';

export interface UserPage {
  items: User[];
  total: number;
}

/** Storage for accounts. Redis today; any store that can enforce a unique username fits. */
export abstract class UserRepository {
  /** Stores the user unless the username (case-insensitive) is taken; false when taken. */
  abstract create(user: User): Promise<boolean>;
  abstract findById(id: string): Promise<User | null>;
  abstract findByUsername(username: string): Promise<User | null>;
  abstract update(
    id: string,
    patch: Partial<Pick<User, 'roles' | 'disabled' | 'passwordHash'>> & {
      roles?: Role[];
    },
  ): Promise<User | null>;
  /** Users in creation order. */
  abstract list(offset: number, limit: number): Promise<UserPage>;
}
