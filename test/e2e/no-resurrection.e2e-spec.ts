import { Redis } from 'ioredis';
import { LoggedIn, registerAndLogin } from '../helpers/logins.js';
import { sessionKeyOf, tokenKeyOf } from '../helpers/redis-inspection.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';
import { AppRedisCommands } from '../helpers/redis-monitor.js';

/** Requests of the session sent before the logout, and as many after it. */
const BURST = 12;

/** Commands that create or change a key; a session key may see them only at login. */
const WRITES = new Set([
  'set',
  'setex',
  'psetex',
  'getset',
  'setnx',
  'expire',
  'pexpire',
  'expireat',
  'pexpireat',
  'persist',
  'rename',
  'restore',
  'copy',
]);

/**
 * A logout racing many in-flight requests of the same session must leave it dead. Redis is
 * frozen while a burst of requests queues up behind it, and the logout is sent in the middle
 * of the burst, so on thaw some requests read the session before the logout deletes it and
 * finish after. Every command naming the session key is watched through MONITOR.
 */
describe('a logout racing in-flight requests of its session', () => {
  let redis: RedisProcess;
  let t: TestApp;
  let commands: AppRedisCommands;
  /** Requests the app's HTTP server has received so far. */
  let received = 0;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startApp({ REDIS_URL: redis.url }, { listen: true });
    t.server.on('request', () => received++);
    commands = new AppRedisCommands(t.redis, redis.url);
    await commands.start();
  });

  // A run that failed while Redis was frozen must not leave it frozen for the next one.
  afterEach(() => redis.thaw());
  afterAll(async () => {
    redis.thaw();
    commands?.stop();
    await t?.close();
    await redis?.kill();
  });

  /** Waits until the app has received `count` requests in all. */
  function receivedAtLeast(count: number): Promise<void> {
    return waitUntil(
      async () => received >= count,
      `the app to receive ${count} requests (it has ${received})`,
      10_000,
      5,
    );
  }

  /**
   * One request of the session: reads, a page, and a further token for the login. The token
   * request carries a wrong password: a live session gets its token without the password being
   * checked, while one that arrives after the logout must not log in afresh.
   */
  function sessionRequest(user: LoggedIn, i: number): Promise<Response> {
    const headers = { Cookie: user.cookie, 'Sec-Fetch-Site': 'same-origin' };
    switch (i % 4) {
      case 0:
        return fetch(`${t.url}/admin/me`, { headers });
      case 1:
        return fetch(`${t.url}/auth/sessions`, { headers });
      case 2:
        return fetch(`${t.url}/auth/login`, { headers });
      default:
        return fetch(`${t.url}/auth/token`, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'password',
            username: user.username,
            password: 'not the password',
          }),
        });
    }
  }

  it.each([1, 2, 3])(
    'leaves the session and every token of the login dead (run %i)',
    async () => {
      // A run that tripped the breaker leaves it to the probe: start once Redis is served again.
      await waitUntil(
        async () => (await fetch(`${t.url}/health`)).status === 200,
        'the app to serve again',
      );
      const user = await registerAndLogin(t.server);
      const sessionKey = sessionKeyOf(user.cookie);
      // The login's own write of the session key must be seen before it is forgotten.
      await commands.flush();
      commands.clear();

      // Every request is held at the app's Redis connection while Redis is frozen, so the
      // logout is queued behind the first burst and ahead of the second one's later commands.
      // Bursts stay small: the freeze must end before the 1.5 s command timeout trips the breaker.
      redis.freeze();
      const base = received;
      const before = Array.from({ length: BURST }, (_, i) =>
        sessionRequest(user, i),
      );
      await receivedAtLeast(base + BURST);
      const logout = fetch(`${t.url}/auth/logout`, {
        method: 'POST',
        headers: { Cookie: user.cookie, 'Sec-Fetch-Site': 'same-origin' },
      });
      await receivedAtLeast(base + BURST + 1);
      const after = Array.from({ length: BURST }, (_, i) =>
        sessionRequest(user, i),
      );
      await receivedAtLeast(base + 2 * BURST + 1);
      // Every request waits on its first Redis read, sent into the frozen server, before the thaw.
      await waitUntil(
        // Sent into the frozen server, or waiting in the auto-pipeline behind what was sent.
        async () =>
          t.redis.commandQueue.length + t.redis.autoPipelineQueueSize >=
          2 * BURST + 1,
        'every request to wait on Redis',
        10_000,
        5,
      );
      redis.thaw();

      const responses = await Promise.all([...before, logout, ...after]);
      expect((await logout).status).toBe(200);
      // Tokens handed out during the race belong to the ended login too.
      const raced: string[] = [];
      for (const res of responses) {
        const body = (await res.json().catch(() => ({}))) as {
          access_token?: string;
        };
        if (body.access_token) raced.push(body.access_token);
      }

      // Every request has been answered, and the app writes before it answers: once MONITOR
      // has shown everything the app sent, no write-back is still to come.
      await commands.flush();
      const inspect = new Redis(redis.url);
      try {
        expect(await inspect.exists(sessionKey)).toBe(0);
        for (const token of [user.accessToken, ...raced])
          expect(await inspect.exists(tokenKeyOf(token))).toBe(0);
      } finally {
        inspect.disconnect();
      }
      const me = await fetch(`${t.url}/admin/me`, {
        headers: { Cookie: user.cookie },
      });
      expect(me.status).toBe(401);
      for (const token of [user.accessToken, ...raced]) {
        const viaToken = await fetch(`${t.url}/admin/me`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        expect(viaToken.status).toBe(401);
      }

      // Ordinary requests only ever read the session key; the logout deletes it.
      const onSessionKey = commands.commands.filter((args) =>
        args.includes(sessionKey),
      );
      expect(onSessionKey.some(([cmd]) => cmd === 'getex')).toBe(true);
      expect(onSessionKey.filter(([cmd]) => WRITES.has(cmd))).toEqual([]);
    },
  );
});
