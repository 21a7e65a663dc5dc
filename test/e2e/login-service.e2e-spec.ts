import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { AccessTokenStore } from '../../src/credentials/access-token.store.js';
import { LoginStore } from '../../src/credentials/login.store.js';
import {
  LoginsService,
  type DraftLogin,
} from '../../src/credentials/logins.service.js';
import { RefreshTokenStore } from '../../src/credentials/refresh-token.store.js';
import type { SessionAuth } from '../../src/credentials/session-auth.js';
import { newSessionId } from '../../src/credentials/session-id.js';
import { SessionStore } from '../../src/credentials/session.store.js';
import { loadConfig } from '../../src/infra/config/app-config.js';
import { DomainError } from '../../src/infra/http/domain-error.js';
import { MetricsService } from '../../src/infra/metrics/metrics.service.js';
import { createRedisClient } from '../../src/infra/redis/redis-client.factory.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import type { LoginSession } from '../../src/login/login-session.js';
import type { AccountNotices } from '../../src/login/account-notices.js';
import { LoginThrottle } from '../../src/login/login-throttle.js';
import { LoginService } from '../../src/login/login.service.js';
import type { User } from '../../src/users/user.js';
import type { SecurityEvents } from '../../src/events/security-events.js';
import type { UsersService } from '../../src/users/users.service.js';
import { madeUpAddress, uniqueName } from '../helpers/logins.js';
import { keysOfUser, userLoginKeys } from '../helpers/redis-inspection.js';

const RIGHT = 'right password';

/**
 * The login sequence of LoginService over the real stores, on the harness's redis-server (the
 * client the service itself would make for REDIS_URL): what is written when, and what is left
 * when a step fails or a login ends half-way. Every test has an account and a client address
 * of its own, and removes the keys it wrote.
 */
describe('LoginService.login', () => {
  const config = loadConfig({
    REDIS_URL: process.env.REDIS_URL!,
    METRICS: 'off',
  });
  let redis: Redis;
  let sessions: SessionStore;
  let logins: LoginsService;
  let drafted: jest.Spied<LoginsService['draft']>;
  let auth: LoginService;
  let user: User;
  let client: { userAgent: string; ip: string };
  let checked: number;

  beforeAll(async () => {
    redis = await createRedisClient(config);
  });
  afterAll(() => redis.quit());

  beforeEach(() => {
    sessions = new SessionStore(redis, config.sessionIdleSeconds);
    logins = new LoginsService(
      new LoginStore(redis),
      new AccessTokenStore(redis),
      new RefreshTokenStore(redis),
      sessions,
      config,
    );
    // Watched, not replaced: what each login drafted, to find (and remove) what it wrote.
    drafted = jest.spyOn(logins, 'draft');
    user = {
      id: crypto.randomUUID(),
      username: uniqueName('alice'),
      passwordHash: 'unused',
      roles: ['user'],
      disabled: false,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      passwordChangedAt: new Date().toISOString(),
      email: null,
      emailVerifiedAt: null,
    };
    client = { userAgent: 'jest', ip: madeUpAddress() };
    checked = 0;
    // A stand-in for the account lookup and password hash check in PostgreSQL, which this
    // spec is not about: it keeps UsersService's contract (the hook runs once the account is
    // found, before its password is checked) and counts the checks, so a test can tell that a
    // refused attempt never reached one. The accounts' own behaviour is tested on the real
    // database (test/e2e/accounts-database.e2e-spec.ts).
    const users = {
      verifyCredentials: async (
        username: string,
        password: string,
        beforeCheck?: (found: User) => Promise<void>,
      ) => {
        if (username === user.username) await beforeCheck?.(user);
        checked++;
        if (username === user.username && password === RIGHT) return user;
        throw new DomainError('invalid_grant', 'Invalid username or password');
      },
    } as unknown as UsersService;
    auth = new LoginService(
      users,
      logins,
      new LoginThrottle(redis, config),
      new MetricsService(config, redis),
      config,
      // What LoginService records is for the security-events e2e tests, through the real app.
      {
        record: () => undefined,
        throttled: () => undefined,
      } as unknown as SecurityEvents,
      // Notices go with password changes, which this spec does not make.
      {} as AccountNotices,
    );
  });

  afterEach(async () => {
    const drafts = drafted.mock.results.flatMap((r) =>
      r.type === 'return' ? [r.value] : [],
    );
    const keys = [
      ...(await keysOfUser(redis, { userId: user.id })),
      ...(await userLoginKeys(redis, user.id)),
      ...drafts.flatMap(keysOfDraft),
      redisKeys.loginEpoch(user.id),
      redisKeys.loginFailuresOfAccount(user.username),
      redisKeys.loginFailuresOfAddress(client.ip),
    ];
    await redis.del(...keys);
  });

  /** Every key a drafted login may have written, whether or not it came to be recorded. */
  function keysOfDraft({ login }: DraftLogin): string[] {
    return [
      redisKeys.session(login.sessionRef),
      redisKeys.token(login.accessToken.hash),
      ...(login.refreshToken
        ? [redisKeys.refreshToken(login.refreshToken.hash)]
        : []),
      redisKeys.login(login.user.id, login.loginId),
      redisKeys.refreshGrace(login.user.id, login.loginId),
    ];
  }

  /** A session like express-session's on the login route, writing through the real store. */
  function browserSession(
    steps: string[],
    onSave?: (saved: SessionAuth, id: string) => Promise<void>,
  ): LoginSession & { id?: string } {
    const session: LoginSession & { id?: string } = {
      regenerate: () => {
        steps.push('regenerate');
        session.id = newSessionId(config.sessionAbsoluteSeconds);
        return Promise.resolve(session.id);
      },
      save: async (auth: SessionAuth) => {
        steps.push('save');
        await new Promise<void>((resolve, reject) => {
          void sessions.set(session.id!, { auth } as never, (err?: Error) =>
            err ? reject(err) : resolve(),
          );
        });
        await onSave?.(auth, session.id!);
      },
    };
    return session;
  }

  const grant = (password = RIGHT) => ({
    grant: 'password' as const,
    username: user.username,
    password,
  });
  const loginIds = () => redis.zrange(redisKeys.logins(user.id), 0, -1);

  it('gives a fresh session only after the password is checked, and writes it before the login record names it', async () => {
    const steps: string[] = [];
    const session = browserSession(steps, async (auth) => {
      // Not yet recorded: nothing can end this login before its credentials exist.
      expect(await logins.exists(auth.userId, auth.loginId)).toBe(false);
    });
    const token = await auth.login(grant(), client, session);
    expect(steps).toEqual(['regenerate', 'save']);
    expect(checked).toBe(1);
    expect(await sessions.readAuth(session.id!)).toMatchObject({
      userId: user.id,
    });
    expect(await logins.findAccessToken(token.accessToken)).toMatchObject({
      userId: user.id,
    });
  });

  it('never touches the session for a wrong password or a refused attempt', async () => {
    const steps: string[] = [];
    await expect(
      auth.login(grant('wrong'), client, browserSession(steps)),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    for (let i = 0; i < config.loginFreeFailuresPerAccount; i++)
      await auth
        .login(grant('wrong'), client, browserSession(steps))
        .catch(() => undefined);
    await expect(
      auth.login(grant(), client, browserSession(steps)),
    ).rejects.toMatchObject({ code: 'too_many_attempts' });
    expect(steps).toEqual([]);
    expect(checked).toBe(config.loginFreeFailuresPerAccount);
  });

  it('names every credential on the login it records, so ending the login ends them all', async () => {
    const session = browserSession([]);
    const token = await auth.login(grant(), client, session);
    const [loginId] = await loginIds();
    await logins.end(user.id, loginId);
    expect(await sessions.readAuth(session.id!)).toBeNull();
    expect(await logins.findAccessToken(token.accessToken)).toBeNull();
    expect(await logins.findRefreshToken(token.refreshToken!)).toBeNull();
    expect(await loginIds()).toEqual([]);
  });

  it('undoes the login, its record and its token, when the session cannot be written', async () => {
    const steps: string[] = [];
    const failure = new Error('Connection is closed.');
    const session = browserSession(steps, () => Promise.reject(failure));
    await expect(auth.login(grant(), client, session)).rejects.toBe(failure);
    expect(await loginIds()).toEqual([]);
    expect(await sessions.readAuth(session.id!)).toBeNull();
    expect(drafted).toHaveReturnedTimes(1);
    const draft = drafted.mock.results[0].value as DraftLogin;
    expect(await redis.exists(...keysOfDraft(draft))).toBe(0);
  });

  it('gives the reservation back after a right password, so it never counts as a failure', async () => {
    for (let i = 0; i < config.loginFreeFailuresPerAccount * 2; i++)
      await auth.login(grant(), client, browserSession([]));
    expect(
      await redis.exists(
        redisKeys.loginFailuresOfAccount(user.username),
        redisKeys.loginFailuresOfAddress(client.ip),
      ),
    ).toBe(0);
    expect(checked).toBe(config.loginFreeFailuresPerAccount * 2);
  });
});
