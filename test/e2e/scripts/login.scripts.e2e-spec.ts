import { randomBytes, randomUUID } from 'node:crypto';
import {
  createLogin,
  raiseLoginEpoch,
  rotateRefresh,
  setLoginField,
  takeLogin,
  type Rotation,
} from '../../../src/credentials/login.scripts.js';
import {
  LOGIN_FIELD_PREFIXES,
  LOGIN_FIELDS,
} from '../../../src/credentials/login.store.js';
import { redisKeys } from '../../../src/infra/redis/redis-keys.js';
import {
  defineScripts,
  runScript,
} from '../../../src/infra/redis/redis-scripts.js';
import { removedAfterEach } from '../../helpers/cleanup.js';
import { inspectRedis } from '../../helpers/redis-inspection.js';

/** The login store's scripts, branch by branch, on the harness's redis-server. */
const redis = inspectRedis();
const forget = removedAfterEach(redis);
defineScripts(redis, [
  createLogin,
  raiseLoginEpoch,
  setLoginField,
  takeLogin,
  rotateRefresh,
]);
afterAll(() => redis.quit());

/** A stand-in for a secret's SHA-256 (a token hash, a session reference). */
const hash = () => randomBytes(32).toString('base64url');
const accessField = (tokenHash: string) =>
  `${LOGIN_FIELD_PREFIXES.accessToken}${tokenHash}`;
const refreshField = (tokenHash: string) =>
  `${LOGIN_FIELD_PREFIXES.refreshToken}${tokenHash}`;

function newUser(): string {
  const userId = randomUUID();
  forget(redisKeys.logins(userId), redisKeys.loginEpoch(userId));
  return userId;
}

function newLoginId(userId: string): string {
  const loginId = randomBytes(16).toString('base64url');
  forget(
    redisKeys.login(userId, loginId),
    redisKeys.refreshGrace(userId, loginId),
  );
  return loginId;
}

/** A whole-millisecond deadline `ms` from now. */
const inMs = (ms: number) => Date.now() + ms;

/** Writes a login record as the store leaves it, expiring at `deadline`. */
async function storeLogin(
  userId: string,
  loginId: string,
  fields: Record<string, string>,
  deadline = inMs(600_000),
): Promise<number> {
  const key = redisKeys.login(userId, loginId);
  await redis.hset(key, { [LOGIN_FIELDS.id]: loginId, ...fields });
  await redis.pexpireat(key, deadline);
  return deadline;
}

describe('createLogin', () => {
  const fieldsOf = (loginId: string) => ({
    [LOGIN_FIELDS.id]: loginId,
    [LOGIN_FIELDS.scope]: 'profile',
    [LOGIN_FIELDS.session]: hash(),
    [accessField(hash())]: String(inMs(60_000)),
  });
  const create = (
    userId: string,
    loginId: string,
    deadline: number,
    epoch: string,
  ) =>
    runScript(
      redis,
      createLogin,
      [userId, loginId],
      deadline,
      loginId,
      epoch,
      fieldsOf(loginId),
    );

  it('records a login of an account never ended, expiring at its deadline, indexed by that deadline', async () => {
    const userId = newUser();
    const loginId = newLoginId(userId);
    const deadline = inMs(120_000);
    const fields = fieldsOf(loginId);
    await expect(
      runScript(
        redis,
        createLogin,
        [userId, loginId],
        deadline,
        loginId,
        '',
        fields,
      ),
    ).resolves.toBe(true);
    const login = redisKeys.login(userId, loginId);
    expect(await redis.hgetall(login)).toEqual(fields);
    expect(await redis.pexpiretime(login)).toBe(deadline);
    expect(
      await redis.zrange(redisKeys.logins(userId), 0, -1, 'WITHSCORES'),
    ).toEqual([loginId, String(deadline)]);
    expect(await redis.pexpiretime(redisKeys.logins(userId))).toBe(deadline);
  });

  it('records a login when the epoch is still the one read before its password was checked', async () => {
    const userId = newUser();
    await redis.set(redisKeys.loginEpoch(userId), '3');
    const loginId = newLoginId(userId);
    await expect(create(userId, loginId, inMs(60_000), '3')).resolves.toBe(
      true,
    );
    expect(await redis.exists(redisKeys.login(userId, loginId))).toBe(1);
  });

  it.each([
    ['none was read, and one has been raised since', '1', ''],
    ['one was read, and it has been raised again since', '2', '1'],
    ['one was read, and it has lapsed since', null, '1'],
  ])(
    'refuses a login, writing nothing, when the epoch moved: %s',
    async (_case, stored, read) => {
      const userId = newUser();
      if (stored !== null)
        await redis.set(redisKeys.loginEpoch(userId), stored);
      const loginId = newLoginId(userId);
      await expect(create(userId, loginId, inMs(60_000), read)).resolves.toBe(
        false,
      );
      expect(
        await redis.exists(
          redisKeys.login(userId, loginId),
          redisKeys.logins(userId),
        ),
      ).toBe(0);
      expect(await redis.get(redisKeys.loginEpoch(userId))).toBe(stored);
    },
  );

  it('keeps the index as long as the longest of the user’s logins, whatever order they come in', async () => {
    const userId = newUser();
    const index = redisKeys.logins(userId);
    const longest = inMs(120_000);
    await create(userId, newLoginId(userId), longest, '');
    await create(userId, newLoginId(userId), inMs(60_000), '');
    expect(await redis.pexpiretime(index)).toBe(longest);
    const longer = inMs(180_000);
    await create(userId, newLoginId(userId), longer, '');
    expect(await redis.pexpiretime(index)).toBe(longer);
    expect(await redis.zcard(index)).toBe(3);
  });
});

describe('raiseLoginEpoch', () => {
  const ttlMs = 60_000;

  it('starts an account’s epoch at 1, kept for the TTL given', async () => {
    const userId = newUser();
    await expect(
      runScript(redis, raiseLoginEpoch, [userId], ttlMs),
    ).resolves.toBe('1');
    const epochTtl = await redis.pttl(redisKeys.loginEpoch(userId));
    expect(epochTtl).toBeGreaterThan(ttlMs - 5_000);
    expect(epochTtl).toBeLessThanOrEqual(ttlMs);
  });

  it('raises an existing epoch and keeps it for the whole TTL again', async () => {
    const userId = newUser();
    await redis.set(redisKeys.loginEpoch(userId), '4', 'PX', 1_000);
    await expect(
      runScript(redis, raiseLoginEpoch, [userId], ttlMs),
    ).resolves.toBe('5');
    expect(await redis.pttl(redisKeys.loginEpoch(userId))).toBeGreaterThan(
      ttlMs - 5_000,
    );
  });
});

describe('setLoginField', () => {
  it('sets a field of a live login, leaving its expiry as it was', async () => {
    const userId = newUser();
    const loginId = newLoginId(userId);
    const deadline = await storeLogin(userId, loginId, {
      [LOGIN_FIELDS.roles]: '["user"]',
    });
    await expect(
      runScript(
        redis,
        setLoginField,
        [userId, loginId],
        LOGIN_FIELDS.roles,
        '["admin"]',
      ),
    ).resolves.toBe(true);
    const login = redisKeys.login(userId, loginId);
    expect(await redis.hget(login, LOGIN_FIELDS.roles)).toBe('["admin"]');
    expect(await redis.pexpiretime(login)).toBe(deadline);
  });

  it('never recreates the record of an ended login', async () => {
    const userId = newUser();
    const loginId = newLoginId(userId);
    await expect(
      runScript(
        redis,
        setLoginField,
        [userId, loginId],
        accessField(hash()),
        inMs(60_000),
      ),
    ).resolves.toBe(false);
    expect(await redis.exists(redisKeys.login(userId, loginId))).toBe(0);
  });
});

describe('takeLogin', () => {
  it('answers a login’s fields and deletes it, its grace entry and its place in the index', async () => {
    const userId = newUser();
    const [taken, kept] = [newLoginId(userId), newLoginId(userId)];
    const fields = {
      [LOGIN_FIELDS.id]: taken,
      [LOGIN_FIELDS.session]: hash(),
      [accessField(hash())]: String(inMs(60_000)),
    };
    await storeLogin(userId, taken, fields);
    await storeLogin(userId, kept, {});
    await redis.zadd(redisKeys.logins(userId), inMs(60_000), taken);
    await redis.zadd(redisKeys.logins(userId), inMs(60_000), kept);
    await redis.set(redisKeys.refreshGrace(userId, taken), 'sealed pair');

    await expect(
      runScript(redis, takeLogin, [userId, taken], taken),
    ).resolves.toEqual(fields);
    expect(
      await redis.exists(
        redisKeys.login(userId, taken),
        redisKeys.refreshGrace(userId, taken),
      ),
    ).toBe(0);
    expect(await redis.zrange(redisKeys.logins(userId), 0, -1)).toEqual([kept]);
    expect(await redis.exists(redisKeys.login(userId, kept))).toBe(1);
  });

  it('answers no fields for a login already gone, and drops its id from the index', async () => {
    const userId = newUser();
    const lapsed = newLoginId(userId);
    await redis.zadd(redisKeys.logins(userId), inMs(60_000), lapsed);
    await expect(
      runScript(redis, takeLogin, [userId, lapsed], lapsed),
    ).resolves.toEqual({});
    expect(await redis.exists(redisKeys.logins(userId))).toBe(0);
  });
});

describe('rotateRefresh', () => {
  const FIELDS = {
    current: LOGIN_FIELDS.currentRefresh,
    previous: LOGIN_FIELDS.previousRefresh,
    refreshPrefix: LOGIN_FIELD_PREFIXES.refreshToken,
  };
  const rotation = (presented: string, graceMs = 30_000): Rotation => ({
    presented,
    next: hash(),
    nextExpiresAt: inMs(300_000),
    accessField: accessField(hash()),
    accessExpiresAt: inMs(60_000),
    graceMs,
    blob: `sealed-${hash()}`,
  });
  const rotate = (userId: string, loginId: string, r: Rotation) =>
    runScript(redis, rotateRefresh, [userId, loginId], r, FIELDS);

  /** A login whose refresh tokens were issued in this order, the last one current. */
  async function loginWithRefreshTokens(...issued: string[]) {
    const userId = newUser();
    const loginId = newLoginId(userId);
    const fields: Record<string, string> = {
      [LOGIN_FIELDS.id]: loginId,
      [LOGIN_FIELDS.currentRefresh]: issued.at(-1)!,
    };
    if (issued.length > 1)
      fields[LOGIN_FIELDS.previousRefresh] = issued.at(-2)!;
    for (const token of issued)
      fields[refreshField(token)] = String(inMs(300_000));
    const deadline = await storeLogin(userId, loginId, fields);
    const login = redisKeys.login(userId, loginId);
    const grace = redisKeys.refreshGrace(userId, loginId);
    return { userId, loginId, fields, deadline, login, grace };
  }

  it('rotates the current token: its successor becomes current, named with its access token, and the sealed pair is kept for the grace window', async () => {
    const current = hash();
    const l = await loginWithRefreshTokens(current);
    const r = rotation(current, 30_000);
    await expect(rotate(l.userId, l.loginId, r)).resolves.toEqual({
      outcome: 'rotated',
      blob: undefined,
    });
    expect(await redis.hgetall(l.login)).toEqual({
      ...l.fields,
      [LOGIN_FIELDS.currentRefresh]: r.next,
      [LOGIN_FIELDS.previousRefresh]: current,
      [refreshField(r.next)]: String(r.nextExpiresAt),
      [r.accessField]: String(r.accessExpiresAt),
    });
    expect(await redis.pexpiretime(l.login)).toBe(l.deadline);
    expect(await redis.get(l.grace)).toBe(r.blob);
    const graceTtl = await redis.pttl(l.grace);
    expect(graceTtl).toBeGreaterThan(25_000);
    expect(graceTtl).toBeLessThanOrEqual(30_000);
  });

  it('rotates the current token without a grace window, dropping the sealed pair of the rotation before', async () => {
    const [first, current] = [hash(), hash()];
    const l = await loginWithRefreshTokens(first, current);
    await redis.set(l.grace, 'sealed pair of the rotation before');
    const r = rotation(current, 0);
    await expect(rotate(l.userId, l.loginId, r)).resolves.toMatchObject({
      outcome: 'rotated',
    });
    expect(await redis.exists(l.grace)).toBe(0);
    expect(
      await redis.hmget(
        l.login,
        LOGIN_FIELDS.currentRefresh,
        LOGIN_FIELDS.previousRefresh,
      ),
    ).toEqual([r.next, current]);
  });

  it('gives the previous token the sealed pair back within the grace window, changing nothing', async () => {
    const [previous, current] = [hash(), hash()];
    const l = await loginWithRefreshTokens(previous, current);
    await redis.set(l.grace, 'sealed pair', 'PX', 30_000);
    await expect(
      rotate(l.userId, l.loginId, rotation(previous)),
    ).resolves.toEqual({ outcome: 'grace', blob: 'sealed pair' });
    expect(await redis.hgetall(l.login)).toEqual(l.fields);
    expect(await redis.get(l.grace)).toBe('sealed pair');
  });

  it('calls the previous token a reuse once the grace window has passed', async () => {
    const [previous, current] = [hash(), hash()];
    const l = await loginWithRefreshTokens(previous, current);
    await expect(
      rotate(l.userId, l.loginId, rotation(previous)),
    ).resolves.toEqual({ outcome: 'reuse', blob: undefined });
    expect(await redis.hgetall(l.login)).toEqual(l.fields);
    expect(await redis.exists(l.grace)).toBe(0);
  });

  it('calls an earlier token of the login a reuse, even within a grace window', async () => {
    const [earlier, previous, current] = [hash(), hash(), hash()];
    const l = await loginWithRefreshTokens(earlier, previous, current);
    await redis.set(l.grace, 'sealed pair', 'PX', 30_000);
    await expect(
      rotate(l.userId, l.loginId, rotation(earlier)),
    ).resolves.toEqual({ outcome: 'reuse', blob: undefined });
    expect(await redis.hgetall(l.login)).toEqual(l.fields);
  });

  it('answers ended for a login that is gone, writing nothing', async () => {
    const userId = newUser();
    const loginId = newLoginId(userId);
    await expect(rotate(userId, loginId, rotation(hash()))).resolves.toEqual({
      outcome: 'ended',
      blob: undefined,
    });
    expect(
      await redis.exists(
        redisKeys.login(userId, loginId),
        redisKeys.refreshGrace(userId, loginId),
      ),
    ).toBe(0);
  });

  it('answers ended for a login that holds no refresh token (a browser login)', async () => {
    const userId = newUser();
    const loginId = newLoginId(userId);
    const fields = { [LOGIN_FIELDS.session]: hash() };
    await storeLogin(userId, loginId, fields);
    await expect(rotate(userId, loginId, rotation(hash()))).resolves.toEqual({
      outcome: 'ended',
      blob: undefined,
    });
    expect(await redis.hgetall(redisKeys.login(userId, loginId))).toEqual({
      [LOGIN_FIELDS.id]: loginId,
      ...fields,
    });
  });

  it('answers unknown for a token the login never issued, changing nothing', async () => {
    const l = await loginWithRefreshTokens(hash(), hash());
    await redis.set(l.grace, 'sealed pair', 'PX', 30_000);
    await expect(
      rotate(l.userId, l.loginId, rotation(hash())),
    ).resolves.toEqual({ outcome: 'unknown', blob: undefined });
    expect(await redis.hgetall(l.login)).toEqual(l.fields);
    expect(await redis.get(l.grace)).toBe('sealed pair');
  });
});
