import { freePort } from '../harness/free-port.mjs';
import { RedisCluster } from '../helpers/redis-cluster.js';
import { sessionKeyOf } from '../helpers/redis-inspection.js';
import {
  expectLive,
  LoggedIn,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually, sleep, waitUntil } from '../helpers/waiting.js';
import type { Server } from 'node:http';
import request from 'supertest';
import { performance } from 'node:perf_hooks';

/**
 * A request that may not hang: supertest gives up after a few seconds, so a hung request fails
 * the test instead of stalling it. This is a hang detector, not a latency requirement.
 */
const HANG_GUARD = { response: 5_000, deadline: 8_000 };

type Probe = {
  name: string;
  send: (server: Server, user: LoggedIn) => request.Test;
  /** What the 503 says; by default the error body of a store outage. */
  body?: object;
};

/** One request of each kind the app serves: public, session, bearer, login, registration. */
const PROBES: Probe[] = [
  {
    name: 'GET /health',
    send: (s) => request(s).get('/health'),
    body: { status: 'error', redis: 'down', database: 'up' },
  },
  {
    name: 'GET /admin/me with a session cookie',
    send: (s, u) => request(s).get('/admin/me').set('Cookie', u.cookie),
  },
  {
    name: 'GET /admin/me with a bearer token',
    send: (s, u) =>
      request(s)
        .get('/admin/me')
        .set('Authorization', `Bearer ${u.accessToken}`),
  },
  {
    name: 'POST /auth/token',
    send: (s, u) =>
      request(s).post('/auth/token').type('form').send({
        grant_type: 'password',
        username: u.username,
        password: PASSWORD,
      }),
  },
  {
    name: 'GET / with a session cookie',
    send: (s, u) => request(s).get('/').set('Cookie', u.cookie),
  },
];

async function expectAllUnavailable(
  server: Server,
  user: LoggedIn,
): Promise<void> {
  for (const probe of PROBES) {
    const res = await probe.send(server, user).timeout(HANG_GUARD);
    expect({ probe: probe.name, status: res.status }).toEqual({
      probe: probe.name,
      status: 503,
    });
    expect({
      probe: probe.name,
      retryAfter: res.headers['retry-after'],
    }).toEqual({
      probe: probe.name,
      retryAfter: expect.stringMatching(/^\d+$/),
    });
    expect({ probe: probe.name, body: res.body as object }).toEqual({
      probe: probe.name,
      body: expect.objectContaining(
        probe.body ?? { error: 'store_unavailable' },
      ),
    });
    // The client's cookie is left alone, and a login in the outage starts no session.
    expect({
      probe: probe.name,
      setCookie: res.headers['set-cookie'],
    }).toEqual({ probe: probe.name, setCookie: undefined });
  }
}

/** Registration needs the database only: it goes on while Redis is away. */
async function expectRegistrationServed(server: Server): Promise<void> {
  await request(server)
    .post('/auth/register')
    .send({ username: uniqueName(), password: PASSWORD })
    .timeout(HANG_GUARD)
    .expect(201);
}

/** Pages that need no Redis: the login page and its stylesheet, and the API docs. */
async function expectAnonymousPagesServed(server: Server): Promise<void> {
  for (const path of ['/auth/login', '/assets/login.css', '/docs-json']) {
    const res = await request(server).get(path).timeout(HANG_GUARD);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
  }
}

/** Polls /health until it answers 200; the app must reconnect on its own. */
async function waitUntilHealthy(
  server: Server,
  withinMs = 15_000,
): Promise<void> {
  let last = 0;
  await waitUntil(
    async () => {
      last = (await request(server).get('/health').timeout(HANG_GUARD)).status;
      return last === 200;
    },
    () =>
      `/health to answer 200 (it still answered ${last} after ${withinMs} ms)`,
    withinMs,
    100,
  );
}

describe('boot without Redis', () => {
  let redis: RedisProcess | undefined;
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    await redis?.kill();
  });

  it('starts, answers 503 meanwhile, and heals without a restart once Redis appears', async () => {
    const port = await freePort();
    t = await startApp({
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
      ADMIN_USERNAME: 'boot-admin',
      ADMIN_PASSWORD: PASSWORD,
    });
    const health = await request(t.server).get('/health').timeout(HANG_GUARD);
    expect(health.status).toBe(503);
    expect(health.headers['retry-after']).toMatch(/^\d+$/);
    await expectAnonymousPagesServed(t.server);
    await expectRegistrationServed(t.server);

    redis = await RedisProcess.start(port);
    await waitUntilHealthy(t.server);
    const user = await registerAndLogin(t.server);
    await expectLive(t.server, user);
    // The admin account configured at boot is created once Redis is there.
    const admin = await eventually(async () => {
      const res = await request(t!.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'password',
          username: 'boot-admin',
          password: PASSWORD,
        });
      return res.status === 200
        ? (res.body as { access_token: string }).access_token
        : undefined;
    }, 'the admin account to be seeded');
    await request(t.server)
      .get('/admin/users')
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
  });
});

describe('Redis failure', () => {
  let redis: RedisProcess;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startApp({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    redis?.thaw();
    await t?.close();
    await redis?.kill();
  });

  // Each test leaves Redis however it likes; the next one starts against a live server.
  afterEach(async () => {
    redis.thaw();
    if (!redis.running) await redis.start();
    await waitUntilHealthy(t.server);
  });

  it('serves every kind of request while its Redis is up', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
    await expectLive(t.server, user);
  });

  it('answers 503 with Retry-After to every kind of request once Redis is killed', async () => {
    const user = await registerAndLogin(t.server);
    await redis.kill();
    await expectAllUnavailable(t.server, user);
    await expectAnonymousPagesServed(t.server);
    await expectRegistrationServed(t.server);
  });

  it('answers 503 with Retry-After instead of hanging while Redis is frozen', async () => {
    const user = await registerAndLogin(t.server);
    redis.freeze();
    await expectAllUnavailable(t.server, user);
    await expectAnonymousPagesServed(t.server);
  });

  it('keeps the session and token of a login made before a freeze once Redis thaws', async () => {
    const user = await registerAndLogin(t.server);
    redis.freeze();
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .timeout(HANG_GUARD)
      .expect(503);
    redis.thaw();
    await waitUntilHealthy(t.server);
    await expectLive(t.server, user);
  });

  it('recovers without a restart once a new Redis listens on the same port', async () => {
    await redis.kill();
    await request(t.server).get('/health').timeout(HANG_GUARD).expect(503);
    await redis.start();
    await waitUntilHealthy(t.server);
    // The new server is empty: registering, logging in and both credentials work again.
    const user = await registerAndLogin(t.server);
    await expectLive(t.server, user);
  });
});

/** The promise: an answer (503 in an outage) within 2 s for every request, queued or not. */
const HANG_BOUND_MS = 2_000;

type Sent = {
  kind: string;
  status: number;
  retryAfter: string | null;
  ms: number;
};

/** The kinds of request a stream cycles through: session and bearer reads, logins, /health. */
function streamRequests(
  base: string,
  user: LoggedIn,
): Array<[string, () => Promise<Response>]> {
  return [
    [
      'session read',
      () => fetch(`${base}/admin/me`, { headers: { Cookie: user.cookie } }),
    ],
    [
      'bearer read',
      () =>
        fetch(`${base}/admin/me`, {
          headers: { Authorization: `Bearer ${user.accessToken}` },
        }),
    ],
    [
      'login',
      () =>
        fetch(`${base}/auth/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'password',
            username: user.username,
            password: PASSWORD,
          }),
        }),
    ],
    ['health', () => fetch(`${base}/health`)],
  ];
}

/**
 * Sends `count` requests `gapMs` apart without waiting for answers (as clients do), cycling
 * through the kinds, and resolves with every answer and how long it took.
 */
async function stream(
  base: string,
  user: LoggedIn,
  count: number,
  gapMs = 100,
): Promise<Sent[]> {
  const kinds = streamRequests(base, user);
  const sent: Promise<Sent>[] = [];
  for (let i = 0; i < count; i++) {
    const [kind, send] = kinds[i % kinds.length];
    const started = performance.now();
    sent.push(
      send().then(async (res) => {
        await res.arrayBuffer();
        return {
          kind,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          ms: Math.round(performance.now() - started),
        };
      }),
    );
    // Paced on purpose: a steady stream that spans the outage, not a burst.
    await sleep(gapMs);
  }
  return Promise.all(sent);
}

describe('a frozen Redis', () => {
  let redis: RedisProcess;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startApp({ REDIS_URL: redis.url }, { listen: true });
  });

  afterAll(async () => {
    redis?.thaw();
    await t?.close();
    await redis?.kill();
  });

  it('answers every request of a steady stream 503 within 2 s, and serves again after the thaw without a restart', async () => {
    const user = await registerAndLogin(t.server);
    redis.freeze();
    const during = await stream(t.url, user, 40);
    for (const s of during)
      expect(s).toEqual({
        kind: s.kind,
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        ms: expect.any(Number),
      });
    // A hang bound per request, not a latency figure: the outage must not make anyone wait.
    expect(during.filter((s) => s.ms >= HANG_BOUND_MS)).toEqual([]);

    redis.thaw();
    await waitUntilHealthy(t.server);
    const after = await stream(t.url, user, 12);
    for (const s of after)
      expect({ kind: s.kind, status: s.status }).toEqual({
        kind: s.kind,
        status: 200,
      });
  });
});

describe('a frozen master of a Redis Cluster', () => {
  let cluster: RedisCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    t = await startApp(
      { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds },
      { listen: true },
    );
  }, 90_000);

  afterAll(async () => {
    for (const node of cluster?.nodes ?? []) node.thaw();
    await t?.close();
    await cluster?.stop();
  });

  it('answers 503 within 2 s for the sessions it holds, goes on serving the others, and serves them all after the thaw', async () => {
    // Two users whose sessions live on different masters.
    const users: { user: LoggedIn; node: number }[] = [];
    while (new Set(users.map((u) => u.node)).size < 2) {
      const user = await registerAndLogin(t.server);
      users.push({
        user,
        node: await cluster.nodeOfKey(sessionKeyOf(user.cookie)),
      });
    }
    const frozen = users[0];
    const other = users.find((u) => u.node !== frozen.node)!;
    const read = async (user: LoggedIn) => {
      const started = performance.now();
      const res = await fetch(`${t.url}/admin/me`, {
        headers: { Cookie: user.cookie },
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    };

    cluster.nodes[frozen.node].freeze();
    const sent: Promise<{ who: string; status: number; ms: number }>[] = [];
    for (let i = 0; i < 30; i++) {
      const [who, user] =
        i % 2 === 0 ? ['frozen', frozen.user] : ['other', other.user];
      sent.push(read(user).then((r) => ({ who, ...r })));
      // Paced on purpose, as the stream above: the reads span the freeze.
      await sleep(100);
    }
    const during = await Promise.all(sent);
    for (const r of during)
      expect({ who: r.who, status: r.status }).toEqual({
        who: r.who,
        status: r.who === 'frozen' ? 503 : 200,
      });
    expect(during.filter((r) => r.ms >= HANG_BOUND_MS)).toEqual([]);

    cluster.nodes[frozen.node].thaw();
    await eventually(
      async () => ((await read(frozen.user)).status === 200 ? true : undefined),
      'the thawed master to serve its sessions again',
    );
    expect((await read(other.user)).status).toBe(200);
  });
});
