import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../infra/http/domain-error.js';
import { hashSecret } from './secret-hash.js';
import { looksLikePersonalToken } from './personal-token.js';
import { AppConfig } from '../infra/config/app-config.js';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { runScript } from '../infra/redis/redis-scripts.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import { SessionStore } from './session.store.js';
import type { Role } from '../users/user.js';
import type {
  ClientInfo,
  LoginRecord,
  LoginUser,
  TokenRecord,
} from './principal.js';
import {
  openSuccessor,
  sealSuccessor,
  type SuccessorPair,
} from './refresh-grace.js';
import { formatScope, narrowScope, type Scope } from './scopes.js';

/** The login record's field naming its session, by the session store's reference. */
const SESSION_FIELD = 'sid';
const TOKEN_FIELD_PREFIX = 'tok:';
/** Fields naming every refresh token the login issued; field `rt` holds the current one's hash. */
const REFRESH_FIELD_PREFIX = 'rt:';
const CURRENT_REFRESH_FIELD = 'rt';
/** A login's last-seen time is written at most this often, per login and instance. */
const LAST_SEEN_INTERVAL_MS = 60_000;
const LAST_SEEN_CACHE_LIMIT = 10_000;

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  /** The access token's scopes. */
  scope: Scope[];
}

export interface RefreshedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  scope: string;
}

/** How a refresh went; `rotated` and `grace` carry the answer. */
export type RefreshOutcome =
  | { outcome: 'rotated' | 'grace'; tokens: RefreshedTokens }
  | {
      outcome: 'reuse_detected' | 'expired' | 'invalid';
      userId?: string;
      loginId?: string;
    };

export interface RefreshRecord {
  userId: string;
  loginId: string;
  issuedAt: number;
  expiresAt: number;
}

/** A login made by `draft`, not yet stored; the secrets are answered only once it is. */
export interface DraftLogin {
  userId: string;
  loginId: string;
  sessionRef: string;
  expiresAt: number;
  fields: Record<string, string>;
  access: { token: string; hash: string; record: TokenRecord };
  refresh?: { token: string; hash: string; record: RefreshRecord };
}

export interface EndedLogins {
  logins: number;
  tokens: number;
}

/**
 * What a login record names: its access and refresh tokens (keys of this store) and its
 * session (the session store's).
 */
interface Credentials {
  tokenKeys: string[];
  refreshKeys: string[];
  currentRefreshKey?: string;
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

  /**
   * Makes a login for the session `sessionId`, ending at `expiresAt`, with the scopes it was
   * granted, the user facts its tokens carry, its first access token and, when asked, its
   * first refresh token. Nothing is stored yet: `writeCredentials` then `record` store it.
   */
  draft(
    user: LoginUser,
    client: ClientInfo,
    expiresAt: number,
    sessionId: string,
    scope: Scope[],
    withRefreshToken: boolean,
  ): DraftLogin {
    const loginId = randomBytes(16).toString('base64url');
    const now = Date.now();
    const accessExpiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      expiresAt,
    );
    const access = newSecret();
    const refresh = withRefreshToken ? newSecret() : undefined;
    const refreshExpiresAt = this.refreshExpiry(now, expiresAt);
    const at = new Date(now).toISOString();
    const fields: Record<string, string> = {
      id: loginId,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: new Date(expiresAt).toISOString(),
      userAgent: client.userAgent.slice(0, 256),
      ip: client.ip,
      scope: formatScope(scope),
      username: user.username,
      roles: JSON.stringify(user.roles),
      userCreatedAt: user.createdAt,
      [SESSION_FIELD]: this.sessions.refOf(sessionId),
      [`${TOKEN_FIELD_PREFIX}${access.hash}`]: String(accessExpiresAt),
    };
    if (refresh) {
      fields[CURRENT_REFRESH_FIELD] = refresh.hash;
      fields[`${REFRESH_FIELD_PREFIX}${refresh.hash}`] =
        String(refreshExpiresAt);
    }
    return {
      userId: user.id,
      loginId,
      sessionRef: this.sessions.refOf(sessionId),
      expiresAt,
      fields,
      access: {
        ...access,
        record: {
          userId: user.id,
          username: user.username,
          roles: user.roles,
          loginId,
          userCreatedAt: user.createdAt,
          scope,
          issuedAt: now,
          expiresAt: accessExpiresAt,
        },
      },
      refresh: refresh && {
        ...refresh,
        record: {
          userId: user.id,
          loginId,
          issuedAt: now,
          expiresAt: refreshExpiresAt,
        },
      },
    };
  }

  /**
   * Writes a drafted login's tokens. Until `record` names them on the login they are known to
   * no one (the secrets are still unanswered), so no ended login can miss them.
   */
  async writeCredentials(login: DraftLogin): Promise<void> {
    if (login.access.record.expiresAt <= Date.now()) throw loginEnded();
    await Promise.all([
      this.redis.set(
        redisKeys.token(login.access.hash),
        JSON.stringify(login.access.record),
        'PXAT',
        login.access.record.expiresAt,
      ),
      login.refresh &&
        this.writeRefresh(login.refresh.hash, login.refresh.record),
    ]);
  }

  /**
   * Records a drafted login, naming its session and tokens, in one script. From here on,
   * ending the login ends every credential it was made with.
   */
  async record(login: DraftLogin): Promise<void> {
    // The record's lastSeenAt is now: the login's first requests need not write it again.
    this.rememberSeen(login.loginId, Date.now());
    await runScript(
      this.redis,
      'createLogin',
      [login.userId, login.loginId],
      login.expiresAt,
      login.loginId,
      login.fields,
    );
  }

  /** Drops what a drafted login wrote, when it could not be recorded; the session too. */
  async discard(login: DraftLogin): Promise<void> {
    await Promise.all([
      this.redis.del(redisKeys.token(login.access.hash)),
      login.refresh &&
        this.redis.del(redisKeys.refreshToken(login.refresh.hash)),
      this.sessions.destroyByRef(login.sessionRef),
    ]);
  }

  /**
   * Issues an access token for a live login; it ends at the token TTL or the login's end,
   * whichever is first (an absolute PXAT, so it never outlives the login by a millisecond).
   */
  async issueToken(
    facts: Omit<TokenRecord, 'issuedAt' | 'expiresAt'>,
    loginExpiresAt: number,
  ): Promise<IssuedToken> {
    const now = Date.now();
    const expiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      loginExpiresAt,
    );
    if (expiresAt <= now) throw loginEnded();
    const record: TokenRecord = { ...facts, issuedAt: now, expiresAt };
    const { token: accessToken, hash: tokenHash } = newSecret();
    const tokenKey = redisKeys.token(tokenHash);
    // Written before it is named, while no one knows it: once the login names it, ending the
    // login finds a key to delete. A login that has ended meanwhile refuses the name.
    await this.redis.set(tokenKey, JSON.stringify(record), 'PXAT', expiresAt);
    const named = await runScript(
      this.redis,
      'nameOnLogin',
      [record.userId, record.loginId],
      `${TOKEN_FIELD_PREFIX}${tokenHash}`,
      expiresAt,
    ).catch(async (err: unknown) => {
      await this.redis.del(tokenKey).catch(() => undefined);
      throw err;
    });
    if (!named) {
      await this.redis.del(tokenKey);
      throw loginEnded();
    }
    return {
      accessToken,
      expiresIn: Math.floor((expiresAt - now) / 1000),
      scope: record.scope,
    };
  }

  private refreshExpiry(now: number, loginExpiresAt: number): number {
    return Math.min(
      now + this.config.refreshTokenIdleSeconds * 1000,
      loginExpiresAt,
    );
  }

  private async writeRefresh(
    hash: string,
    record: RefreshRecord,
  ): Promise<void> {
    await this.redis.set(
      redisKeys.refreshToken(hash),
      JSON.stringify(record),
      'PXAT',
      record.expiresAt,
    );
  }

  /** The refresh token's record when it is still stored (current or rotated), else null. */
  async findRefresh(refreshToken: string): Promise<RefreshRecord | null> {
    const raw = await this.redis.get(
      redisKeys.refreshToken(hashSecret(refreshToken)),
    );
    return raw ? (JSON.parse(raw) as RefreshRecord) : null;
  }

  /** A live login's granted scope, username and current refresh token hash; null when it has ended. */
  async loginFacts(
    userId: string,
    loginId: string,
  ): Promise<{ scope: string; username: string; refreshHash?: string } | null> {
    const [id, scope, username, refreshHash] = await this.redis.hmget(
      redisKeys.login(userId, loginId),
      'id',
      'scope',
      'username',
      CURRENT_REFRESH_FIELD,
    );
    if (!id) return null;
    return {
      scope: scope ?? '',
      username: username ?? '',
      refreshHash: refreshHash ?? undefined,
    };
  }

  /**
   * Rotates a refresh token (RFC 6749 6): a new access token and a new refresh token, and the
   * presented one stops working. The access token may narrow the login's scope, never widen
   * it. The rotated token presented again within the grace window gets the same pair back;
   * later, or any older token of the login, is a reuse, and the caller ends the login.
   */
  async refresh(
    refreshToken: string,
    requested: Scope[] | undefined,
  ): Promise<RefreshOutcome> {
    const record = await this.findRefresh(refreshToken);
    if (!record) return { outcome: 'invalid' };
    const { userId, loginId } = record;
    const fields = await this.redis.hgetall(redisKeys.login(userId, loginId));
    if (!fields.id) return { outcome: 'expired', loginId };
    const granted = (fields.scope ?? '').split(' ').filter(Boolean) as Scope[];
    const scope = narrowScope(requested, granted);
    const now = Date.now();
    const loginExpiresAt = Date.parse(fields.expiresAt);
    const accessExpiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      loginExpiresAt,
    );
    const nextExpiresAt = this.refreshExpiry(now, loginExpiresAt);
    if (accessExpiresAt <= now) return { outcome: 'expired', loginId };
    const pair: SuccessorPair = {
      accessToken: randomToken(),
      accessExpiresAt,
      refreshToken: randomToken(),
      scope: formatScope(scope),
    };
    const accessHash = hashSecret(pair.accessToken);
    const nextHash = hashSecret(pair.refreshToken);
    // The successor's keys are written first, so whoever is answered with the pair (this
    // request, or an honest retry within the grace window) can use it at once. Until the
    // script names them on the login they are known to no one, and are dropped unless it rotates.
    const token: TokenRecord = {
      userId,
      loginId,
      username: fields.username,
      roles: JSON.parse(fields.roles ?? '[]') as Role[],
      userCreatedAt: fields.userCreatedAt,
      scope,
      issuedAt: now,
      expiresAt: accessExpiresAt,
    };
    await Promise.all([
      this.redis.set(
        redisKeys.token(accessHash),
        JSON.stringify(token),
        'PXAT',
        accessExpiresAt,
      ),
      this.writeRefresh(nextHash, {
        userId,
        loginId,
        issuedAt: now,
        expiresAt: nextExpiresAt,
      }),
    ]);
    const rotation = await runScript(
      this.redis,
      'rotateRefresh',
      [userId, loginId],
      {
        presented: hashSecret(refreshToken),
        next: nextHash,
        nextExpiresAt,
        accessField: `${TOKEN_FIELD_PREFIX}${accessHash}`,
        accessExpiresAt,
        graceMs: this.config.refreshReuseGraceSeconds * 1000,
        blob: sealSuccessor(pair, refreshToken, loginId),
      },
    );
    const dropSuccessor = () =>
      Promise.all([
        this.redis.del(redisKeys.token(accessHash)),
        this.redis.del(redisKeys.refreshToken(nextHash)),
      ]);
    if (rotation.outcome !== 'rotated') await dropSuccessor();
    switch (rotation.outcome) {
      case 'rotated':
        break;
      case 'grace': {
        const earlier = openSuccessor(
          rotation.blob ?? '',
          refreshToken,
          loginId,
        );
        if (!earlier) return { outcome: 'invalid', loginId };
        return { outcome: 'grace', tokens: answerOf(earlier, now) };
      }
      case 'reuse':
        return { outcome: 'reuse_detected', userId, loginId };
      case 'ended':
        return { outcome: 'expired', loginId };
      default:
        return { outcome: 'invalid', loginId };
    }
    // Named only once written: a login ended after this rotation finds the successor and ends it.
    return { outcome: 'rotated', tokens: answerOf(pair, now) };
  }

  /** Revokes one access token (RFC 7009): its key and its name on the login. */
  async revokeToken(accessToken: string): Promise<boolean> {
    const hash = hashSecret(accessToken);
    const record = await this.findToken(accessToken);
    const deleted = await this.redis.del(redisKeys.token(hash));
    if (record)
      await this.redis.hdel(
        redisKeys.login(record.userId, record.loginId),
        `${TOKEN_FIELD_PREFIX}${hash}`,
      );
    return deleted === 1;
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
    this.rememberSeen(loginId, now);
    runScript(
      this.redis,
      'markSeen',
      [userId, loginId],
      new Date(now).toISOString(),
    ).catch(() => undefined);
  }

  private rememberSeen(loginId: string, at: number): void {
    if (this.lastSeenWritten.size >= LAST_SEEN_CACHE_LIMIT)
      this.lastSeenWritten.clear();
    this.lastSeenWritten.set(loginId, at);
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
    const keys = [...credentials.tokenKeys];
    if (credentials.currentRefreshKey) keys.push(credentials.currentRefreshKey);
    const found = await Promise.all([
      ...keys.map(async (key) => (await this.redis.exists(key)) === 1),
      ...(credentials.sessionRef
        ? [this.sessions.existsByRef(credentials.sessionRef)]
        : []),
    ]);
    return found.some(Boolean);
  }

  async exists(userId: string, loginId: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.login(userId, loginId))) === 1;
  }

  /**
   * Ends one login: its session, its tokens and its record. Credentials go first, so a failure
   * halfway leaves the record to retry with; the record is then read and deleted in one step,
   * and whatever it came to name in between is deleted too. Every credential is written
   * before its login names it, so a name always finds its key. Returns how many live tokens
   * it revoked.
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
    // What the record came to name after the first read (a token minted or rotated in
    // between); the rest is gone already.
    const lateRevoked = await this.deleteCredentials(
      namedSince(credentialsOf(fields), credentialsOf(taken)),
    );
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
      Promise.all(credentials.refreshKeys.map((key) => this.redis.del(key))),
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
          // What tokens minted by a later refresh carry; never recreates an ended login.
          runScript(
            this.redis,
            'nameOnLogin',
            [userId, login.id],
            'roles',
            JSON.stringify(roles),
          ),
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
  const names = Object.keys(fields);
  const current = fields[CURRENT_REFRESH_FIELD];
  return {
    tokenKeys: names
      .filter((f) => f.startsWith(TOKEN_FIELD_PREFIX))
      .map((f) => redisKeys.token(f.slice(TOKEN_FIELD_PREFIX.length))),
    refreshKeys: names
      .filter((f) => f.startsWith(REFRESH_FIELD_PREFIX))
      .map((f) => redisKeys.refreshToken(f.slice(REFRESH_FIELD_PREFIX.length))),
    currentRefreshKey: current ? redisKeys.refreshToken(current) : undefined,
    sessionRef: fields[SESSION_FIELD] || undefined,
  };
}

/** The credentials `later` names that `earlier` did not. */
function namedSince(earlier: Credentials, later: Credentials): Credentials {
  const known = new Set([...earlier.tokenKeys, ...earlier.refreshKeys]);
  return {
    tokenKeys: later.tokenKeys.filter((key) => !known.has(key)),
    refreshKeys: later.refreshKeys.filter((key) => !known.has(key)),
    sessionRef:
      later.sessionRef === earlier.sessionRef ? undefined : later.sessionRef,
  };
}

function answerOf(pair: SuccessorPair, now: number): RefreshedTokens {
  return {
    accessToken: pair.accessToken,
    expiresIn: Math.max(0, Math.floor((pair.accessExpiresAt - now) / 1000)),
    refreshToken: pair.refreshToken,
    scope: pair.scope,
  };
}

/**
 * 256 random bits as base64url, never starting like a personal token (the guard tells the
 * two apart by that prefix; about one draw in a billion is redrawn).
 */
function randomToken(): string {
  for (;;) {
    const token = randomBytes(32).toString('base64url');
    if (!looksLikePersonalToken(token)) return token;
  }
}

/** A fresh secret, and the SHA-256 it is stored under. */
function newSecret(): { token: string; hash: string } {
  const token = randomToken();
  return { token, hash: hashSecret(token) };
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
    scope: fields.scope ?? '',
  };
}
