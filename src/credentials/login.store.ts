import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { defineScripts, runScript } from '../infra/redis/redis-scripts.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import type { Role } from '../users/user.js';
import {
  createLogin,
  raiseLoginEpoch,
  rotateRefresh,
  setLoginField,
  takeLogin,
  type Rotation,
} from './login.scripts.js';
import type { ClientInfo, LoginRecord, LoginUser } from './principal.js';

/** The fields of a login record. The only place their names are spelled. */
export const LOGIN_FIELDS = {
  id: 'id',
  createdAt: 'createdAt',
  lastSeenAt: 'lastSeenAt',
  expiresAt: 'expiresAt',
  userAgent: 'userAgent',
  ip: 'ip',
  /** The scopes granted at login, space-separated. */
  scope: 'scope',
  username: 'username',
  /** JSON array. */
  roles: 'roles',
  userCreatedAt: 'userCreatedAt',
  /** The session's reference, as the session store gives it. */
  session: 'sid',
  /** The hash of the current refresh token. */
  currentRefresh: 'rt',
  /** The hash of the refresh token the last rotation replaced. */
  previousRefresh: 'rtPrev',
} as const;

/** Prefixes of the fields naming each credential the login issued, by token hash (value: expiry, epoch ms). */
export const LOGIN_FIELD_PREFIXES = {
  accessToken: 'tok:',
  refreshToken: 'rt:',
} as const;

/** A login epoch outlives any login attempt in flight by far. */
const EPOCH_TTL_MS = 24 * 3_600_000;

/** What a login record names: its tokens, by hash, and its session, by reference. */
export interface LoginCredentials {
  accessTokens: string[];
  refreshTokens: string[];
  currentRefresh?: string;
  sessionRef?: string;
}

/** A login about to be recorded: who, from where, until when, granting what, naming what. */
export interface NewLogin {
  user: LoginUser;
  loginId: string;
  client: ClientInfo;
  createdAt: number;
  expiresAt: number;
  scope: string;
  sessionRef: string;
  accessToken: { hash: string; expiresAt: number };
  refreshToken?: { hash: string; expiresAt: number };
}

/**
 * Login records: a hash `auth:{u:<userId>}:login:<loginId>` per sign-in naming its session and
 * tokens, the user's index of them by absolute expiry, the refresh-grace entry of each, and the
 * account's login epoch. Sole owner of those keys and of the record's fields; every key is under
 * the user's hash tag, so each change here is one script.
 */
@Injectable()
export class LoginStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    defineScripts(redis, [
      createLogin,
      raiseLoginEpoch,
      setLoginField,
      takeLogin,
      rotateRefresh,
    ]);
  }

  /** The account's login epoch now ('' before the first raise). */
  async epoch(userId: string): Promise<string> {
    return (await this.redis.get(redisKeys.loginEpoch(userId))) ?? '';
  }

  /** Every login recorded from now on must have read its epoch after this. */
  async raiseEpoch(userId: string): Promise<void> {
    await runScript(this.redis, raiseLoginEpoch, [userId], EPOCH_TTL_MS);
  }

  /**
   * Records a login naming its credentials, unless the account's epoch is no longer `epoch`
   * (its logins were ended since the password was checked). True when recorded.
   */
  create(login: NewLogin, epoch: string): Promise<boolean> {
    const at = new Date(login.createdAt).toISOString();
    const fields: Record<string, string> = {
      [LOGIN_FIELDS.id]: login.loginId,
      [LOGIN_FIELDS.createdAt]: at,
      [LOGIN_FIELDS.lastSeenAt]: at,
      [LOGIN_FIELDS.expiresAt]: new Date(login.expiresAt).toISOString(),
      [LOGIN_FIELDS.userAgent]: login.client.userAgent.slice(0, 256),
      [LOGIN_FIELDS.ip]: login.client.ip,
      [LOGIN_FIELDS.scope]: login.scope,
      [LOGIN_FIELDS.username]: login.user.username,
      [LOGIN_FIELDS.roles]: JSON.stringify(login.user.roles),
      [LOGIN_FIELDS.userCreatedAt]: login.user.createdAt,
      [LOGIN_FIELDS.session]: login.sessionRef,
      [LoginStore.accessTokenField(login.accessToken.hash)]: String(
        login.accessToken.expiresAt,
      ),
    };
    if (login.refreshToken) {
      fields[LOGIN_FIELDS.currentRefresh] = login.refreshToken.hash;
      fields[`${LOGIN_FIELD_PREFIXES.refreshToken}${login.refreshToken.hash}`] =
        String(login.refreshToken.expiresAt);
    }
    return runScript(
      this.redis,
      createLogin,
      [login.user.id, login.loginId],
      login.expiresAt,
      login.loginId,
      epoch,
      fields,
    );
  }

  /** Names a further access token on a live login; false when the login has ended. */
  nameAccessToken(
    userId: string,
    loginId: string,
    tokenHash: string,
    expiresAt: number,
  ): Promise<boolean> {
    return runScript(
      this.redis,
      setLoginField,
      [userId, loginId],
      LoginStore.accessTokenField(tokenHash),
      expiresAt,
    );
  }

  async unnameAccessToken(
    userId: string,
    loginId: string,
    tokenHash: string,
  ): Promise<void> {
    await this.redis.hdel(
      redisKeys.login(userId, loginId),
      LoginStore.accessTokenField(tokenHash),
    );
  }

  async markSeen(userId: string, loginId: string, at: number): Promise<void> {
    await runScript(
      this.redis,
      setLoginField,
      [userId, loginId],
      LOGIN_FIELDS.lastSeenAt,
      new Date(at).toISOString(),
    );
  }

  /** The roles that tokens minted later by the login (a refresh) carry. */
  async setRoles(
    userId: string,
    loginId: string,
    roles: Role[],
  ): Promise<void> {
    await runScript(
      this.redis,
      setLoginField,
      [userId, loginId],
      LOGIN_FIELDS.roles,
      JSON.stringify(roles),
    );
  }

  rotate(userId: string, loginId: string, rotation: Rotation) {
    return runScript(this.redis, rotateRefresh, [userId, loginId], rotation, {
      current: LOGIN_FIELDS.currentRefresh,
      previous: LOGIN_FIELDS.previousRefresh,
      refreshPrefix: LOGIN_FIELD_PREFIXES.refreshToken,
    });
  }

  /** A live login's granted scope, username and current refresh token hash; null when it has ended. */
  async facts(
    userId: string,
    loginId: string,
  ): Promise<{ scope: string; username: string; refreshHash?: string } | null> {
    const [id, scope, username, refreshHash] = await this.redis.hmget(
      redisKeys.login(userId, loginId),
      LOGIN_FIELDS.id,
      LOGIN_FIELDS.scope,
      LOGIN_FIELDS.username,
      LOGIN_FIELDS.currentRefresh,
    );
    if (!id) return null;
    return {
      scope: scope ?? '',
      username: username ?? '',
      refreshHash: refreshHash ?? undefined,
    };
  }

  /** What a live login carries into the tokens a refresh mints; null when it has ended. */
  async forRefresh(userId: string, loginId: string) {
    const fields = await this.read(userId, loginId);
    if (!fields[LOGIN_FIELDS.id]) return null;
    return {
      scope: fields[LOGIN_FIELDS.scope] ?? '',
      username: fields[LOGIN_FIELDS.username],
      roles: JSON.parse(fields[LOGIN_FIELDS.roles] ?? '[]') as Role[],
      userCreatedAt: fields[LOGIN_FIELDS.userCreatedAt],
      expiresAt: Date.parse(fields[LOGIN_FIELDS.expiresAt]),
    };
  }

  /** A login's raw fields (none when it has ended); read with `credentialsOf`. */
  read(userId: string, loginId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(redisKeys.login(userId, loginId));
  }

  async exists(userId: string, loginId: string): Promise<boolean> {
    return (await this.redis.exists(redisKeys.login(userId, loginId))) === 1;
  }

  /** The ids of a user's logins, live or lapsed. */
  ids(userId: string): Promise<string[]> {
    return this.redis.zrange(redisKeys.logins(userId), 0, -1);
  }

  /** The user's logins not past their absolute expiry, with their raw fields. */
  async listUnexpired(
    userId: string,
  ): Promise<{ id: string; fields: Record<string, string> }[]> {
    const index = redisKeys.logins(userId);
    await this.redis.zremrangebyscore(index, '-inf', Date.now());
    return this.readAll(userId, await this.redis.zrange(index, 0, -1));
  }

  async readAll(
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

  /** Reads and deletes a login record (and its grace entry) in one step: its last fields. */
  take(userId: string, loginId: string): Promise<Record<string, string>> {
    return runScript(this.redis, takeLogin, [userId, loginId], loginId);
  }

  /** The field naming an access token on its login. */
  static accessTokenField(tokenHash: string): string {
    return `${LOGIN_FIELD_PREFIXES.accessToken}${tokenHash}`;
  }

  /** The credentials a record's fields name. */
  static credentialsOf(fields: Record<string, string>): LoginCredentials {
    const names = Object.keys(fields);
    const named = (prefix: string) =>
      names
        .filter((f) => f.startsWith(prefix))
        .map((f) => f.slice(prefix.length));
    return {
      accessTokens: named(LOGIN_FIELD_PREFIXES.accessToken),
      refreshTokens: named(LOGIN_FIELD_PREFIXES.refreshToken),
      currentRefresh: fields[LOGIN_FIELDS.currentRefresh] || undefined,
      sessionRef: fields[LOGIN_FIELDS.session] || undefined,
    };
  }

  static toRecord(fields: Record<string, string>): LoginRecord {
    return {
      id: fields[LOGIN_FIELDS.id],
      createdAt: fields[LOGIN_FIELDS.createdAt],
      lastSeenAt: fields[LOGIN_FIELDS.lastSeenAt],
      expiresAt: fields[LOGIN_FIELDS.expiresAt],
      userAgent: fields[LOGIN_FIELDS.userAgent],
      ip: fields[LOGIN_FIELDS.ip],
      scope: fields[LOGIN_FIELDS.scope] ?? '',
    };
  }
}
