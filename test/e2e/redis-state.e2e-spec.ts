import { DatabaseInspector } from '../helpers/database.js';
import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  LOGIN_FIELD_PREFIXES,
  LOGIN_FIELDS,
} from '../../src/credentials/login.store.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { sessionIdOf } from '../helpers/cookies.js';
import {
  furtherToken,
  LoggedIn,
  PASSWORD,
  registerAndLogin,
} from '../helpers/logins.js';
import {
  dumpKey,
  inspectRedis,
  keysOfUser,
  scanKeys,
  sessionKeyOf,
  tokenHashesOf,
  tokenKeyOf,
} from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const IDLE_SECONDS = 300;
const TOKEN_TTL_SECONDS = 120;

describe('what a login leaves in Redis', () => {
  let t: TestApp;
  let redis: Redis;
  let user: LoggedIn;
  let secondToken: string;
  beforeAll(async () => {
    t = await startApp({
      SESSION_IDLE_SECONDS: String(IDLE_SECONDS),
      TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
    });
    redis = inspectRedis();
    user = await registerAndLogin(t.server);
    secondToken = (await furtherToken(t.server, user)).access_token;
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it('stores the session under auth:sess:* with a TTL within SESSION_IDLE_SECONDS', async () => {
    const key = sessionKeyOf(user.cookie);
    expect(key).toMatch(/^auth:sess:[A-Za-z0-9_-]{43}$/);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(IDLE_SECONDS * 1000);
    const session = JSON.parse((await redis.get(key))!);
    expect(session.auth).toEqual(
      expect.objectContaining({
        userId: user.userId,
        username: user.username,
        roles: ['user'],
      }),
    );
  });

  it('stores each token under auth:tok:* with a TTL within TOKEN_TTL_SECONDS', async () => {
    for (const token of [user.accessToken, secondToken]) {
      const key = tokenKeyOf(token);
      expect(key).toMatch(/^auth:tok:[A-Za-z0-9_-]{43}$/);
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(TOKEN_TTL_SECONDS * 1000);
      const record = JSON.parse((await redis.get(key))!);
      expect(record).toEqual(
        expect.objectContaining({
          userId: user.userId,
          username: user.username,
          roles: ['user'],
          loginId: expect.any(String),
        }),
      );
    }
  });

  it('gives every key of the user a TTL: nothing of it is permanent in Redis', async () => {
    const keys = await keysOfUser(redis, user);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect({ key, ttl: ttl > 0 }).toEqual({ key, ttl: true });
    }
  });

  it('holds no account record and no username index in Redis', async () => {
    for (const secret of [user.userId, user.username]) {
      const named = await scanKeys(redis, `*${secret}*`);
      expect(
        named.filter((k) => !k.startsWith(`auth:{u:${user.userId}}:`)),
      ).toEqual([]);
    }
  });

  it('holds neither the raw token nor the raw session id in any key name or value', async () => {
    const sessionId = sessionIdOf(user.cookie);
    const secrets = [
      user.accessToken,
      secondToken,
      sessionId,
      sessionId.split('.')[1],
      decodeURIComponent(user.cookie.split('=')[1]),
    ];
    const keys = await keysOfUser(redis, user);
    // The user's login record, the session and both tokens.
    expect(keys).toEqual(
      expect.arrayContaining([
        redisKeys.logins(user.userId),
        sessionKeyOf(user.cookie),
        tokenKeyOf(user.accessToken),
        tokenKeyOf(secondToken),
      ]),
    );
    for (const key of keys) {
      const value = await dumpKey(redis, key);
      for (const secret of secrets) {
        expect(key).not.toContain(secret);
        expect(value).not.toContain(secret);
      }
    }
    for (const secret of secrets.slice(0, 4)) {
      expect(await scanKeys(redis, `*${secret}*`)).toEqual([]);
    }
  });

  it('stores the password only as an argon2id hash, in the database', async () => {
    const db = new DatabaseInspector();
    try {
      const row = (await db.userById(user.userId))!;
      expect(JSON.stringify(row)).not.toContain(PASSWORD);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(row.username).toBe(user.username);
    } finally {
      await db.close();
    }
  });

  it('records the session and both tokens on one login, so logout can find them', async () => {
    const loginIds = await redis.zrange(redisKeys.logins(user.userId), 0, -1);
    expect(loginIds).toHaveLength(1);
    const fields = await redis.hgetall(
      redisKeys.login(user.userId, loginIds[0]),
    );
    expect(redisKeys.session(fields[LOGIN_FIELDS.session])).toBe(
      sessionKeyOf(user.cookie),
    );
    const tokenKeys = tokenHashesOf(
      fields,
      LOGIN_FIELD_PREFIXES.accessToken,
    ).map(redisKeys.token);
    expect(tokenKeys.sort()).toEqual(
      [tokenKeyOf(user.accessToken), tokenKeyOf(secondToken)].sort(),
    );
  });
});

describe('what a logout leaves in Redis', () => {
  let t: TestApp;
  let redis: Redis;
  beforeAll(async () => {
    t = await startApp();
    redis = inspectRedis();
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it.each(['session', 'bearer'] as const)(
    'removes the session, the tokens and the login record after a %s logout; the account stays',
    async (mode) => {
      const user = await registerAndLogin(t.server);
      const before = await keysOfUser(redis, user);
      expect(before).toContain(sessionKeyOf(user.cookie));
      expect(before).toContain(tokenKeyOf(user.accessToken));
      const logout = request(t.server).post('/auth/logout');
      if (mode === 'session') logout.set('Cookie', user.cookie);
      else logout.set('Authorization', `Bearer ${user.accessToken}`);
      await logout.expect(200);
      for (const key of before)
        expect({ key, exists: await redis.exists(key) }).toEqual({
          key,
          exists: 0,
        });
      const db = new DatabaseInspector();
      try {
        expect(await db.userById(user.userId)).not.toBeNull();
      } finally {
        await db.close();
      }
    },
  );
});
