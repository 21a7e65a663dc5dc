import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { freePort } from '../harness/free-port.mjs';
import {
  AUTH_MODES,
  authAs,
  Credentials,
  furtherToken,
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';

type Labels = Record<string, string>;

interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(
      /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    ))
      labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one series `name` whose labels include `labels`; 0 when there is none yet. */
function valueOf(samples: Sample[], name: string, labels: Labels = {}): number {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${found.length} series of ${name} match the labels`);
  return found[0]?.value ?? 0;
}

describe('GET /metrics on the main port (admins only)', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;
  let admin: Credentials;

  beforeAll(async () => {
    t = await startApp({
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
    admin = await login(t.server, adminName, adminPassword);
  });
  afterAll(() => t.close());

  async function scrape(): Promise<Sample[]> {
    const res = await request(t.server)
      .get('/metrics')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .expect(200);
    return parseExposition(res.text);
  }

  /** How much each of `series` moved while `act` ran. */
  async function deltas(
    series: [string, Labels?][],
    act: () => Promise<void>,
  ): Promise<number[]> {
    const before = await scrape();
    await act();
    const after = await scrape();
    return series.map(
      ([name, labels]) =>
        valueOf(after, name, labels) - valueOf(before, name, labels),
    );
  }

  it('refuses an anonymous caller with 401 and a Bearer challenge', async () => {
    const res = await request(t.server).get('/metrics').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="auth"');
    expect(res.text).not.toContain('auth_logins_total');
  });

  it.each(AUTH_MODES)(
    'refuses a user without the admin role with 403 (%s)',
    async (mode) => {
      const user = await registerAndLogin(t.server);
      const res = await request(t.server)
        .get('/metrics')
        .set(authAs(mode, user))
        .expect(403);
      expect(res.text).not.toContain('auth_logins_total');
    },
  );

  it.each(AUTH_MODES)(
    'serves the Prometheus text format to an admin (%s)',
    async (mode) => {
      const res = await request(t.server)
        .get('/metrics')
        .set(authAs(mode, admin))
        .expect(200);
      expect(res.headers['content-type']).toMatch(
        /^text\/plain; version=0\.0\.4(;|$)/,
      );
      expect(res.headers['cache-control']).toBe('no-store');
      for (const declaration of [
        '# TYPE auth_http_request_duration_seconds histogram',
        '# TYPE auth_logins_total counter',
        '# TYPE auth_tokens_issued_total counter',
        '# TYPE auth_tokens_revoked_total counter',
        '# TYPE auth_redis_up gauge',
        '# TYPE auth_redis_command_duration_seconds histogram',
        '# TYPE auth_redis_command_errors_total counter',
        '# TYPE process_resident_memory_bytes gauge',
        '# TYPE nodejs_eventloop_lag_seconds gauge',
      ])
        expect(res.text).toContain(declaration);
      // Every line parses, and each series appears once.
      const samples = parseExposition(res.text);
      const keys = samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`);
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  it('counts a successful login, a failed login and a further token request exactly', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    const moved = await deltas(
      [
        ['auth_logins_total', { outcome: 'success' }],
        ['auth_logins_total', { outcome: 'invalid_credentials' }],
        ['auth_logins_total', { outcome: 'throttled' }],
        ['auth_logins_total', { outcome: 'unavailable' }],
        ['auth_logins_total', { outcome: 'error' }],
        ['auth_tokens_issued_total'],
      ],
      async () => {
        const user = await login(t.server, username);
        await request(t.server)
          .post('/auth/token')
          .type('form')
          .send({ username, password: 'not the password at all' })
          .expect(400);
        await furtherToken(t.server, user);
      },
    );
    expect(moved).toEqual([1, 1, 0, 0, 0, 2]);
  });

  it('counts a throttled login as throttled, not as a wrong password', async () => {
    const user = await registerAndLogin(t.server);
    const wrong = () =>
      request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username: user.username, password: 'not the password' });
    for (let i = 0; i < t.config.loginFreeFailuresPerAccount; i++)
      await wrong().expect(400);
    const moved = await deltas(
      [
        ['auth_logins_total', { outcome: 'throttled' }],
        ['auth_logins_total', { outcome: 'invalid_credentials' }],
      ],
      async () => {
        await wrong().expect(429);
      },
    );
    expect(moved).toEqual([1, 0]);
  });

  it('counts every live token each kind of revocation deletes', async () => {
    const reasons = [
      'logout',
      'login_ended',
      'logout_all',
      'password_change',
      'admin_ended',
    ];
    const moved = await deltas(
      reasons.map((reason) => ['auth_tokens_revoked_total', { reason }]),
      async () => {
        // logout: a login holding two tokens.
        const a = await registerAndLogin(t.server);
        await furtherToken(t.server, a);
        await request(t.server)
          .post('/auth/logout')
          .set('Authorization', `Bearer ${a.accessToken}`)
          .expect(200);

        // login_ended: one other login, ended from the list of logins.
        const b = await registerAndLogin(t.server);
        const other = await login(t.server, b.username);
        const logins = await request(t.server)
          .get('/auth/sessions')
          .set('Cookie', b.cookie)
          .expect(200);
        const otherId = (logins.body as { id: string; current: boolean }[])
          .filter((l) => !l.current)
          .map((l) => l.id);
        expect(otherId).toHaveLength(1);
        await request(t.server)
          .delete(`/auth/sessions/${otherId[0]}`)
          .set('Cookie', b.cookie)
          .expect(204);
        await request(t.server)
          .get('/admin/me')
          .set(authAs('bearer', other))
          .expect(401);

        // logout_all: three logins.
        const c = await registerAndLogin(t.server);
        await login(t.server, c.username);
        await login(t.server, c.username);
        await request(t.server)
          .post('/auth/logout-all')
          .set('Cookie', c.cookie)
          .expect(200);

        // password_change: the two other logins end, the caller's stays.
        const d = await registerAndLogin(t.server);
        await login(t.server, d.username);
        await login(t.server, d.username);
        await request(t.server)
          .post('/auth/password')
          .set('Cookie', d.cookie)
          .send({
            currentPassword: PASSWORD,
            newPassword: 'a new and longer passphrase 7',
          })
          .expect(200);

        // admin_ended: an admin ends both logins of a user.
        const e: LoggedIn = await registerAndLogin(t.server);
        await login(t.server, e.username);
        const ended = await request(t.server)
          .delete(`/admin/users/${e.userId}/sessions`)
          .set(authAs('bearer', admin))
          .expect(200);
        expect(ended.body).toEqual({ ended: 2 });
      },
    );
    expect(moved).toEqual([2, 1, 3, 2, 2]);
  });

  it('times requests by route template and status, and unrouted ones as "unmatched"', async () => {
    const user = await registerAndLogin(t.server);
    const stray = `/no-such-route-${randomBytes(6).toString('hex')}`;
    const count = 'auth_http_request_duration_seconds_count';
    const moved = await deltas(
      [
        [count, { method: 'GET', route: '/admin/me', status: '200' }],
        [count, { method: 'GET', route: '/admin/me', status: '401' }],
        [count, { method: 'GET', route: 'unmatched', status: '404' }],
        [
          count,
          {
            method: 'DELETE',
            route: '/admin/users/:id/sessions',
            status: '200',
          },
        ],
      ],
      async () => {
        await request(t.server)
          .get('/admin/me')
          .set('Cookie', user.cookie)
          .expect(200);
        await request(t.server).get('/admin/me').expect(401);
        await request(t.server).get(stray).expect(404);
        await request(t.server)
          .delete(`/admin/users/${user.userId}/sessions`)
          .set(authAs('bearer', admin))
          .expect(200);
      },
    );
    expect(moved).toEqual([1, 1, 1, 1]);
    const res = await request(t.server)
      .get('/metrics')
      .set(authAs('bearer', admin))
      .expect(200);
    expect(res.text).not.toContain(stray);
    expect(res.text).not.toContain(user.userId);
  });

  it('reports Redis up and times its commands by name', async () => {
    const user = await registerAndLogin(t.server);
    const [moved] = await deltas(
      [['auth_redis_command_duration_seconds_count', { command: 'get' }]],
      async () => {
        // A bearer check is one GET.
        await request(t.server)
          .get('/admin/me')
          .set('Authorization', `Bearer ${user.accessToken}`)
          .expect(200);
      },
    );
    expect(moved).toBeGreaterThanOrEqual(1);
    const samples = await scrape();
    expect(valueOf(samples, 'auth_redis_up')).toBe(1);
    const commands = samples
      .filter((s) => s.name === 'auth_redis_command_duration_seconds_count')
      .map((s) => s.labels.command);
    // Scripts run by EVALSHA: each is registered once per connection.
    expect(commands).toEqual(expect.arrayContaining(['get', 'set', 'evalsha']));
    for (const command of commands) expect(command).toMatch(/^[a-z]+$/);
  });
});

describe('METRICS_PORT: /metrics on a port of its own', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    t = await startApp({ METRICS_PORT: String(port) });
  });
  afterAll(() => t.close());

  it('serves /metrics there without credentials', async () => {
    await registerAndLogin(t.server);
    const res = await request(`http://127.0.0.1:${port}`)
      .get('/metrics')
      .expect(200);
    expect(res.headers['content-type']).toMatch(
      /^text\/plain; version=0\.0\.4(;|$)/,
    );
    const samples = parseExposition(res.text);
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'success' })).toBe(
      1,
    );
    expect(valueOf(samples, 'auth_redis_up')).toBe(1);
  });

  it('serves nothing else there', async () => {
    const metricsPort = request(`http://127.0.0.1:${port}`);
    await metricsPort.get('/').expect(404);
    await metricsPort.get('/health').expect(404);
    await metricsPort.post('/metrics').expect(405);
  });

  it('answers 404 for /metrics on the main port', async () => {
    await request(t.server).get('/metrics').expect(404);
  });

  it('closes the port when the app shuts down', async () => {
    const otherPort = await freePort();
    const other = await startApp({ METRICS_PORT: String(otherPort) });
    const url = `http://127.0.0.1:${otherPort}`;
    // A kept-alive scraper connection must not hold the shutdown up.
    await request(url).get('/metrics').set('Connection', 'keep-alive');
    await other.close();
    const refused = await request(url)
      .get('/metrics')
      .then(
        () => false,
        (err: { code?: string }) => err.code === 'ECONNREFUSED',
      );
    expect(refused).toBe(true);
  });
});

describe('metrics while Redis is down', () => {
  let redis: RedisProcess;
  let t: TestApp;
  let metricsPort: request.Agent;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const port = await freePort();
    t = await startApp({ REDIS_URL: redis.url, METRICS_PORT: String(port) });
    metricsPort = request.agent(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    redis?.thaw();
    await t?.close();
    await redis?.kill();
  });
  afterEach(async () => {
    redis.thaw();
    if (!redis.running) await redis.start();
  });

  async function scrape(): Promise<Sample[]> {
    return parseExposition(
      (await metricsPort.get('/metrics').expect(200)).text,
    );
  }

  it('reports a frozen Redis down once a command has timed out (its connection still open), then up after the thaw', async () => {
    expect(valueOf(await scrape(), 'auth_redis_up')).toBe(1);
    redis.freeze();
    // The PING times out and opens the connection's breaker; the socket stays connected.
    await request(t.server)
      .get('/health')
      .timeout({ response: 5_000, deadline: 8_000 })
      .expect(503);
    expect(t.redis.status).toBe('ready');
    expect(valueOf(await scrape(), 'auth_redis_up')).toBe(0);
    redis.thaw();
    await eventually(
      async () =>
        valueOf(await scrape(), 'auth_redis_up') === 1 ? true : undefined,
      'auth_redis_up 1',
    );
  });

  it('reports Redis down and counts the failed commands, then up again', async () => {
    expect(valueOf(await scrape(), 'auth_redis_up')).toBe(1);
    const errors = (samples: Sample[]) =>
      valueOf(samples, 'auth_redis_command_errors_total', { command: 'ping' });
    const before = errors(await scrape());
    await redis.kill();
    await eventually(
      async () =>
        valueOf(await scrape(), 'auth_redis_up') === 0 ? true : undefined,
      'auth_redis_up 0',
    );
    await request(t.server).get('/health').expect(503);
    expect(errors(await scrape()) - before).toBe(1);
    await redis.start();
    await eventually(
      async () =>
        valueOf(await scrape(), 'auth_redis_up') === 1 ? true : undefined,
      'auth_redis_up 1',
    );
  });
});

describe('METRICS=off', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({
      METRICS: 'off',
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
  });
  afterAll(() => t.close());

  it('serves no /metrics, not even to an admin', async () => {
    const admin = await login(t.server, adminName, adminPassword);
    await request(t.server).get('/metrics').expect(404);
    await request(t.server)
      .get('/metrics')
      .set(authAs('bearer', admin))
      .expect(404);
  });

  it('leaves the Redis client uninstrumented', () => {
    // The client's own sendCommand is the breaker's (redis-client.factory.ts); the metrics
    // wrapper marks the clients it wraps.
    expect(
      Object.getOwnPropertySymbols(t.redis).map((s) => s.description),
    ).not.toContain('redisCommandMetrics');
  });
});

describe('metrics with the embedded store', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    t = await startApp({ REDIS_URL: '', METRICS_PORT: String(port) });
  });
  afterAll(() => t.close());

  it('boots, counts logins and reports the store up', async () => {
    await registerAndLogin(t.server);
    const res = await request(`http://127.0.0.1:${port}`)
      .get('/metrics')
      .expect(200);
    const samples = parseExposition(res.text);
    expect(valueOf(samples, 'auth_logins_total', { outcome: 'success' })).toBe(
      1,
    );
    expect(valueOf(samples, 'auth_redis_up')).toBe(1);
  });
});
