import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../common/domain-error.js';
import { hashSecret } from '../common/secret-hash.js';
import { AppConfig } from '../config/app-config.js';
import { redisKeys } from '../redis/redis-keys.js';
import { REDIS } from '../redis/redis.constants.js';
import type { Role } from '../users/user.js';
import type { ClientInfo, LoginRecord, TokenRecord } from './principal.js';

const SESSION_FIELD = 'sid';
const TOKEN_FIELD_PREFIX = 'tok:';
const TOKEN_KEY = redisKeys.token('');
/** A login's last-seen time is written at most this often, per login and instance. */
const LAST_SEEN_INTERVAL_MS = 60_000;
const LAST_SEEN_CACHE_LIMIT = 10_000;

// The scripts below touch only keys of one user, which share the `{u:<userId>}` hash tag.

/**
 * Writes a login record expiring at its deadline and adds it to the user's index, which lives
 * as long as the user's longest login. ARGV: deadline, login id, then field/value pairs.
 */
const CREATE_LOGIN = `
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`;

/** Updates a live login's last-seen time; never recreates an ended login's hash. */
const MARK_SEEN = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1]) end
return 0`;

/** Names a token on a login that still exists; never recreates an ended login's hash. */
const ADD_TOKEN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** Reads and deletes a login record and drops it from the index, in one step. */
const TAKE_LOGIN = `
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return fields`;

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

export interface EndedLogins {
  logins: number;
  tokens: number;
}

/**
 * A login is one sign-in: a hash under `{u:<userId>}` that names its session (by id hash)
 * and its tokens (by token hash), indexed per user by absolute expiry. Ending a login deletes
 * the session and token keys it names, so checking a credential stays a single lookup.
 */
@Injectable()
export class LoginStore {
  private readonly lastSeenWritten = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  async create(
    userId: string,
    client: ClientInfo,
    expiresAt: number,
    sessionKey: string,
  ): Promise<string> {
    const loginId = randomBytes(16).toString('base64url');
    const now = new Date().toISOString();
    const fields = {
      id: loginId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(expiresAt).toISOString(),
      userAgent: client.userAgent.slice(0, 256),
      ip: client.ip,
      [SESSION_FIELD]: sessionKey,
    };
    await this.redis.eval(
      CREATE_LOGIN,
      2,
      redisKeys.logins(userId),
      redisKeys.login(userId, loginId),
      expiresAt,
      loginId,
      ...Object.entries(fields).flat(),
    );
    return loginId;
  }

  /**
   * Issues an access token for a live login; it ends at the token TTL or the login's end,
   * whichever is first (an absolute PXAT, so it never outlives the login by a millisecond).
   */
  async issueToken(
    record: TokenRecord,
    loginExpiresAt: number,
  ): Promise<IssuedToken> {
    const now = Date.now();
    const expiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      loginExpiresAt,
    );
    if (expiresAt <= now) throw loginEnded();
    const accessToken = randomBytes(32).toString('base64url');
    const tokenHash = hashSecret(accessToken);
    const loginKey = redisKeys.login(record.userId, record.loginId);
    const tokenKey = redisKeys.token(tokenHash);
    // Record the token on its login first: a token the login does not name could not be revoked.
    const added = await this.redis.eval(
      ADD_TOKEN,
      1,
      loginKey,
      `${TOKEN_FIELD_PREFIX}${tokenHash}`,
      expiresAt,
    );
    if (added !== 1) throw loginEnded();
    await this.redis.set(tokenKey, JSON.stringify(record), 'PXAT', expiresAt);
    // A login ended meanwhile may have deleted the token key before it was written.
    if ((await this.redis.exists(loginKey)) === 0) {
      await this.redis.del(tokenKey);
      throw loginEnded();
    }
    return { accessToken, expiresIn: Math.floor((expiresAt - now) / 1000) };
  }

  async findToken(accessToken: string): Promise<TokenRecord | null> {
    const raw = await this.redis.get(redisKeys.token(hashSecret(accessToken)));
    return raw ? (JSON.parse(raw) as TokenRecord) : null;
  }

  /** Best effort and throttled: a lost write only makes `lastSeenAt` older. */
  markSeen(userId: string, loginId: string): void {
    const now = Date.now();
    const last = this.lastSeenWritten.get(loginId);
    if (last !== undefined && now - last < LAST_SEEN_INTERVAL_MS) return;
    if (this.lastSeenWritten.size >= LAST_SEEN_CACHE_LIMIT)
      this.lastSeenWritten.clear();
    this.lastSeenWritten.set(loginId, now);
    this.redis
      .eval(
        MARK_SEEN,
        1,
        redisKeys.login(userId, loginId),
        new Date(now).toISOString(),
      )
      .catch(() => undefined);
  }

  /** Live logins of a user, newest first. Logins whose session and tokens have all lapsed are pruned. */
  async list(userId: string): Promise<LoginRecord[]> {
    const indexKey = redisKeys.logins(userId);
    await this.redis.zremrangebyscore(indexKey, '-inf', Date.now());
    const ids = await this.redis.zrange(indexKey, 0, -1);
    const logins = await this.readAll(userId, ids);
    const live: LoginRecord[] = [];
    const dead: string[] = [];
    // One EXISTS per key, each on its own: sessions and tokens sit in different hash slots,
    // and a Redis Cluster refuses a pipeline (or EXISTS a b) that spans slots.
    const alive = await Promise.all(
      logins.map(async (login) => {
        const found = await Promise.all(
          this.credentialKeys(login.fields).map((key) =>
            this.redis.exists(key),
          ),
        );
        return found.some((n) => n === 1);
      }),
    );
    logins.forEach((login, i) => {
      if (alive[i]) live.push(toLoginRecord(login.fields));
      else dead.push(login.id);
    });
    if (dead.length) await Promise.all(dead.map((id) => this.end(userId, id)));
    return live.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Deletes a session just written for a login that has ended meanwhile, and fails. */
  async confirmSession(
    userId: string,
    loginId: string,
    sessionKey: string,
  ): Promise<void> {
    if (await this.exists(userId, loginId)) return;
    await this.redis.del(sessionKey);
    throw loginEnded();
  }

  async exists(userId: string, loginId: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.login(userId, loginId))) === 1;
  }

  /**
   * Ends one login: its session, its tokens and its record. Credentials go first, so a failure
   * halfway leaves the record to retry with; the record is then read and deleted in one step,
   * and its credentials are deleted once more. Returns how many live tokens it revoked.
   */
  async end(userId: string, loginId: string): Promise<number> {
    const key = redisKeys.login(userId, loginId);
    const fields = await this.redis.hgetall(key);
    const credentials = this.credentialKeys(fields);
    const revoked = await this.deleteKeys(credentials);
    const taken = (await this.redis.eval(
      TAKE_LOGIN,
      2,
      key,
      redisKeys.logins(userId),
      loginId,
    )) as string[];
    // Every key the record named at the end, again: a token named meanwhile, or a session
    // that a login still in progress wrote after the first pass (it checks the record after
    // writing, and this pass comes after the record is gone). Keys already gone count nothing.
    const lateRevoked = await this.deleteKeys(
      this.credentialKeys(pairs(taken)),
    );
    this.lastSeenWritten.delete(loginId);
    return revoked + lateRevoked;
  }

  /**
   * One DEL per key, each on its own: sessions and tokens live in other hash slots than the
   * login and each other, and a Redis Cluster refuses a pipeline (or DEL a b) across slots.
   * Returns how many of the keys were live tokens.
   */
  private async deleteKeys(keys: string[]): Promise<number> {
    const deleted = await Promise.all(keys.map((k) => this.redis.del(k)));
    return keys.filter((k, i) => deleted[i] === 1 && k.startsWith(TOKEN_KEY))
      .length;
  }

  /** Ends every login of a user but `keepLoginId`: how many logins, and how many live tokens. */
  async endAll(userId: string, keepLoginId?: string): Promise<EndedLogins> {
    const ids = await this.redis.zrange(redisKeys.logins(userId), 0, -1);
    const targets = ids.filter((id) => id !== keepLoginId);
    const revoked = await Promise.all(
      targets.map((id) => this.end(userId, id)),
    );
    return {
      logins: targets.length,
      tokens: revoked.reduce((sum, n) => sum + n, 0),
    };
  }

  /**
   * Rewrites the roles held in a user's live sessions and tokens, keeping their TTLs. One
   * GET and one SET per key, never batched: the keys sit in different hash slots.
   */
  async updateRoles(userId: string, roles: Role[]): Promise<void> {
    const ids = await this.redis.zrange(redisKeys.logins(userId), 0, -1);
    const logins = await this.readAll(userId, ids);
    const keys = logins.flatMap((login) => this.credentialKeys(login.fields));
    await Promise.all(
      keys.map(async (key) => {
        const raw = await this.redis.get(key);
        if (!raw) return;
        const value = JSON.parse(raw) as {
          roles?: Role[];
          auth?: { roles: Role[] };
        };
        if (value.auth) value.auth.roles = roles;
        else value.roles = roles;
        await this.redis.set(key, JSON.stringify(value), 'KEEPTTL', 'XX');
      }),
    );
  }

  private async readAll(
    userId: string,
    ids: string[],
  ): Promise<{ id: string; fields: Record<string, string> }[]> {
    if (ids.length === 0) return [];
    // A pipeline is safe here: every key is under the user's `{u:<userId>}` hash tag.
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(redisKeys.login(userId, id));
    const results = (await pipeline.exec()) ?? [];
    return ids
      .map((id, i) => ({
        id,
        fields: (results[i]?.[1] ?? {}) as Record<string, string>,
      }))
      .filter((login) => Object.keys(login.fields).length > 0);
  }

  private credentialKeys(fields: Record<string, string>): string[] {
    const keys = Object.keys(fields)
      .filter((f) => f.startsWith(TOKEN_FIELD_PREFIX))
      .map((f) => redisKeys.token(f.slice(TOKEN_FIELD_PREFIX.length)));
    if (fields[SESSION_FIELD]) keys.push(fields[SESSION_FIELD]);
    return keys;
  }
}

function loginEnded(): DomainError {
  return new DomainError('unauthenticated', 'The login has ended');
}

/** HGETALL's flat `[field, value, ...]` reply, as an object. */
function pairs(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

function toLoginRecord(fields: Record<string, string>): LoginRecord {
  return {
    id: fields.id,
    createdAt: fields.createdAt,
    lastSeenAt: fields.lastSeenAt,
    expiresAt: fields.expiresAt,
    userAgent: fields.userAgent,
    ip: fields.ip,
  };
}
