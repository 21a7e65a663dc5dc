import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { DomainError } from '../infra/http/domain-error.js';
import { loadConfig } from '../infra/config/app-config.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { redisKeys } from '../infra/redis/redis-keys.js';
import type { LoginSession } from './login-session.js';
import type { SessionAuth } from '../credentials/session-auth.js';
import { newSessionId } from '../credentials/session-id.js';
import { SessionStore } from '../credentials/session.store.js';
import type { User } from '../users/user.js';
import type { UsersService } from '../users/users.service.js';
import type { SecurityEvents } from '../events/security-events.js';
import { LoginService } from './login.service.js';
import { LoginThrottle } from './login-throttle.js';
import { AccessTokenStore } from '../credentials/access-token.store.js';
import { LoginStore } from '../credentials/login.store.js';
import { LoginsService } from '../credentials/logins.service.js';
import { RefreshTokenStore } from '../credentials/refresh-token.store.js';

const RIGHT = 'right password';

/**
 * The login sequence of LoginService over the real stores, on the embedded in-process Redis:
 * what is written when, and what is left when a step fails or a login ends half-way.
 */
describe('LoginService.login', () => {
  const config = loadConfig({ REDIS_URL: '', METRICS: 'off' });
  let redis: Redis;
  let sessions: SessionStore;
  let logins: LoginsService;
  let auth: LoginService;
  let user: User;
  let checked: number;

  beforeEach(async () => {
    redis = new RedisMock();
    // ioredis-mock instances share one keyspace: start each test from an empty one.
    await redis.flushall();
    sessions = new SessionStore(redis, config.sessionIdleSeconds);
    logins = new LoginsService(
      new LoginStore(redis),
      new AccessTokenStore(redis),
      new RefreshTokenStore(redis),
      sessions,
      config,
    );
    user = {
      id: crypto.randomUUID(),
      username: `alice-${crypto.randomUUID().slice(0, 8)}`,
      passwordHash: 'unused',
      roles: ['user'],
      disabled: false,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      passwordChangedAt: new Date().toISOString(),
    };
    checked = 0;
    const users = {
      verifyCredentials: async (
        username: string,
        password: string,
        beforeCheck?: (found: User) => Promise<void>,
      ) => {
        if (username === user.username) await beforeCheck?.(user);
        checked++;
        if (username === user.username && password === RIGHT)
          return Promise.resolve(user);
        return Promise.reject(
          new DomainError('invalid_grant', 'Invalid username or password'),
        );
      },
    } as unknown as UsersService;
    auth = new LoginService(
      users,
      logins,
      new LoginThrottle(redis, config),
      new MetricsService(config, redis),
      config,
      // What LoginService records is the e2e tests' business (test/e2e/security-events).
      {
        record: () => undefined,
        throttled: () => undefined,
      } as unknown as SecurityEvents,
    );
  });
  afterEach(() => redis.disconnect());

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
  const client = { userAgent: 'jest', ip: '192.0.2.1' };
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
    expect(await redis.keys(redisKeys.token('*'))).toEqual([]);
    expect(await redis.keys(redisKeys.refreshToken('*'))).toEqual([]);
  });

  it('gives the reservation back after a right password, so it never counts as a failure', async () => {
    for (let i = 0; i < config.loginFreeFailuresPerAccount * 2; i++)
      await auth.login(grant(), client, browserSession([]));
    expect(
      await redis.exists(redisKeys.loginFailuresOfAccount(user.username)),
    ).toBe(0);
    expect(checked).toBe(config.loginFreeFailuresPerAccount * 2);
  });
});
