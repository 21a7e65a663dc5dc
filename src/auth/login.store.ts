import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../common/domain-error.js';
import { hashSecret } from '../common/secret-hash.js';
import { AppConfig } from '../config/app-config.js';
import { redisKeys } from '../redis/redis-keys.js';
import { runScript } from '../redis/redis-scripts.js';
import { REDIS } from '../redis/redis.constants.js';
import { SessionStore } from '../session/session.store.js';
import type { Role } from '../users/user.js';
import type { ClientInfo, LoginRecord, TokenRecord } from './principal.js';

/** The login record's field naming its session, by the session store's reference. */
const SESSION_FIELD = 'sid';
const TOKEN_FIELD_PREFIX = 'tok:';
/** A login's last-seen time is written at most this often, per login and instance. */
const LAST_SEEN_INTERVAL_MS = 60_000;
const LAST_SEEN_CACHE_LIMIT = 10_000;

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

export interface EndedLogins {
  logins: number;
  tokens: number;
}

/** What a login record names: its tokens (keys of this store) and its session (the session store's). */
interface Credentials {
  tokenKeys: string[];
  sessionRef?: string;
}

/**
 * A login is one sign-in: a hash under `{u:<userId>}` that names its session (by the session
 * store's reference) and its tokens (by token hash), indexed per user by absolute expiry.
 * Ending a login deletes the tokens it names and asks the session store to delete its
 * session, so checking a credential stays a single lookup.
 */
@Injectable()
export class LoginStore {
  private readonly lastSeenWritten = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
    private readonly sessions: SessionStore,
  ) {}

  /** Records a login bound to the session `sessionId`, ending at `expiresAt`; returns its id. */
  async create(
    userId: string,
    client: ClientInfo,
    expiresAt: number,
    sessionId: string,
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
      [SESSION_FIELD]: this.sessions.refOf(sessionId),
    };
    await runScript(
      this.redis,
      'createLogin',
      [userId, loginId],
      expiresAt,
      loginId,
      fields,
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
    const named = await runScript(
      this.redis,
      'nameOnLogin',
      [record.userId, record.loginId],
      `${TOKEN_FIELD_PREFIX}${tokenHash}`,
      expiresAt,
    );
    if (!named) throw loginEnded();
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
    runScript(
      this.redis,
      'markSeen',
      [userId, loginId],
      new Date(now).toISOString(),
    ).catch(() => undefined);
  }

  /** Live logins of a user, newest first. Logins whose session and tokens have all lapsed are pruned. */
  async list(userId: string): Promise<LoginRecord[]> {
    const indexKey = redisKeys.logins(userId);
    await this.redis.zremrangebyscore(indexKey, '-inf', Date.now());
    const ids = await this.redis.zrange(indexKey, 0, -1);
    const logins = await this.readAll(userId, ids);
    const live: LoginRecord[] = [];
    const dead: string[] = [];
    const alive = await Promise.all(
      logins.map((login) => this.anyAlive(credentialsOf(login.fields))),
    );
    logins.forEach((login, i) => {
      if (alive[i]) live.push(toLoginRecord(login.fields));
      else dead.push(login.id);
    });
    if (dead.length) await Promise.all(dead.map((id) => this.end(userId, id)));
    return live.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * One EXISTS per credential, each on its own: sessions and tokens sit in different hash
   * slots, and a Redis Cluster refuses a pipeline (or EXISTS a b) that spans slots.
   */
  private async anyAlive(credentials: Credentials): Promise<boolean> {
    const found = await Promise.all([
      ...credentials.tokenKeys.map(
        async (key) => (await this.redis.exists(key)) === 1,
      ),
      ...(credentials.sessionRef
        ? [this.sessions.existsByRef(credentials.sessionRef)]
        : []),
    ]);
    return found.some(Boolean);
  }

  /** Deletes the session just written for a login that has ended meanwhile, and fails. */
  async confirmSession(
    userId: string,
    loginId: string,
    sessionId: string,
  ): Promise<void> {
    if (await this.exists(userId, loginId)) return;
    await this.sessions.destroyByRef(this.sessions.refOf(sessionId));
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
    const fields = await this.redis.hgetall(redisKeys.login(userId, loginId));
    const revoked = await this.deleteCredentials(credentialsOf(fields));
    const taken = await runScript(
      this.redis,
      'takeLogin',
      [userId, loginId],
      loginId,
    );
    // Every credential the record named at the end, again: a token named meanwhile, or a
    // session that a login still in progress wrote after the first pass (it checks the record
    // after writing, and this pass comes after the record is gone). Those already gone count nothing.
    const lateRevoked = await this.deleteCredentials(credentialsOf(taken));
    this.lastSeenWritten.delete(loginId);
    return revoked + lateRevoked;
  }

  /**
   * One DEL per key, each on its own: sessions and tokens live in other hash slots than the
   * login and each other, and a Redis Cluster refuses a pipeline (or DEL a b) across slots.
   * Returns how many live tokens were deleted.
   */
  private async deleteCredentials(credentials: Credentials): Promise<number> {
    const [deleted] = await Promise.all([
      Promise.all(credentials.tokenKeys.map((key) => this.redis.del(key))),
      credentials.sessionRef
        ? this.sessions.destroyByRef(credentials.sessionRef)
        : undefined,
    ]);
    return deleted.filter((n) => n === 1).length;
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
   * Rewrites the roles held in a user's live tokens, keeping their TTLs, and asks the session
   * store to do the same for their sessions. One GET and one SET per key, never batched: the
   * keys sit in different hash slots.
   */
  async updateRoles(userId: string, roles: Role[]): Promise<void> {
    const ids = await this.redis.zrange(redisKeys.logins(userId), 0, -1);
    const logins = await this.readAll(userId, ids);
    await Promise.all(
      logins.flatMap((login) => {
        const { tokenKeys, sessionRef } = credentialsOf(login.fields);
        return [
          ...tokenKeys.map((key) => this.rewriteTokenRoles(key, roles)),
          ...(sessionRef
            ? [this.sessions.rewriteRoles(sessionRef, roles)]
            : []),
        ];
      }),
    );
  }

  private async rewriteTokenRoles(key: string, roles: Role[]): Promise<void> {
    const raw = await this.redis.get(key);
    if (!raw) return;
    const record = { ...(JSON.parse(raw) as TokenRecord), roles };
    await this.redis.set(key, JSON.stringify(record), 'KEEPTTL', 'XX');
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
}

function credentialsOf(fields: Record<string, string>): Credentials {
  return {
    tokenKeys: Object.keys(fields)
      .filter((f) => f.startsWith(TOKEN_FIELD_PREFIX))
      .map((f) => redisKeys.token(f.slice(TOKEN_FIELD_PREFIX.length))),
    sessionRef: fields[SESSION_FIELD] || undefined,
  };
}

function loginEnded(): DomainError {
  return new DomainError('unauthenticated', 'The login has ended');
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
