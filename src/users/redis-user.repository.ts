import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/redis-keys.js';
import { REDIS } from '../redis/redis.constants.js';
import type { User } from './user.js';
import { UserPage, UserRepository } from './user.repository.js';

// All three keys share the {users} hash tag, so this runs atomically on a cluster too.
const CREATE_USER = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  return 1
end
return 0`;

@Injectable()
export class RedisUserRepository extends UserRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    super();
  }

  async create(user: User): Promise<boolean> {
    const created = await this.redis.eval(
      CREATE_USER,
      3,
      redisKeys.username(user.username),
      redisKeys.user(user.id),
      redisKeys.userList(),
      user.id,
      JSON.stringify(user),
      Date.parse(user.createdAt),
    );
    return created === 1;
  }

  async findById(id: string): Promise<User | null> {
    const raw = await this.redis.get(redisKeys.user(id));
    return raw ? (JSON.parse(raw) as User) : null;
  }

  async findByUsername(username: string): Promise<User | null> {
    const id = await this.redis.get(redisKeys.username(username));
    return id ? this.findById(id) : null;
  }

  async update(
    id: string,
    patch: Partial<Pick<User, 'roles' | 'disabled' | 'passwordHash'>>,
  ): Promise<User | null> {
    const user = await this.findById(id);
    if (!user) return null;
    const updated: User = { ...user, ...patch };
    await this.redis.set(redisKeys.user(id), JSON.stringify(updated), 'XX');
    return updated;
  }

  async list(offset: number, limit: number): Promise<UserPage> {
    const [ids, total] = await Promise.all([
      this.redis.zrange(redisKeys.userList(), offset, offset + limit - 1),
      this.redis.zcard(redisKeys.userList()),
    ]);
    if (ids.length === 0) return { items: [], total };
    const raws = await this.redis.mget(ids.map((id) => redisKeys.user(id)));
    const items = raws
      .filter((raw): raw is string => raw !== null)
      .map((raw) => JSON.parse(raw) as User);
    return { items, total };
  }
}
