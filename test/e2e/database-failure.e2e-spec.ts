import type { Server } from 'node:http';
import request from 'supertest';
import { freePort } from '../harness/free-port.mjs';
import {
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { PostgresProcess } from '../helpers/postgres-process.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

/** A hang detector, not the latency requirement: that one is checked on every answer below. */
const HANG_GUARD = { response: 5_000, deadline: 8_000 };
/** The promise for a database outage: a 503 within 2 s, never a hang. */
const OUTAGE_ANSWER_MS = 2_000;

type Probe = {
  name: string;
  send: (server: Server, user: LoggedIn, admin: LoggedIn) => request.Test;
};

/** Every route that needs account data. */
const ACCOUNT_ROUTES: Probe[] = [
  {
    name: 'POST /auth/register',
    send: (s) =>
      request(s)
        .post('/auth/register')
        .send({ username: uniqueName(), password: PASSWORD }),
  },
  {
    name: 'POST /auth/token (password grant)',
    send: (s, u) =>
      request(s).post('/auth/token').type('form').send({
        grant_type: 'password',
        username: u.username,
        password: PASSWORD,
      }),
  },
  {
    name: 'POST /auth/password',
    send: (s, u) =>
      request(s)
        .post('/auth/password')
        .set('Authorization', `Bearer ${u.accessToken}`)
        .send({
          currentPassword: PASSWORD,
          newPassword: 'a new plum orbit tundra phrase',
        }),
  },
  {
    name: 'GET /admin/users',
    send: (s, _u, a) => request(s).get('/admin/users').set('Cookie', a.cookie),
  },
  {
    name: 'PATCH /admin/users/:id',
    send: (s, u, a) =>
      request(s)
        .patch(`/admin/users/${u.userId}`)
        .set('Cookie', a.cookie)
        .send({ roles: ['user'] }),
  },
  {
    name: 'DELETE /admin/users/:id/sessions',
    send: (s, u, a) =>
      request(s)
        .delete(`/admin/users/${u.userId}/sessions`)
        .set('Authorization', `Bearer ${a.accessToken}`),
  },
];

/** Requests that the credential's snapshot answers: no account data needed. */
const CREDENTIAL_ROUTES: Probe[] = [
  {
    name: 'GET /admin/me by session',
    send: (s, u) => request(s).get('/admin/me').set('Cookie', u.cookie),
  },
  {
    name: 'GET /admin/me by bearer token',
    send: (s, u) =>
      request(s)
        .get('/admin/me')
        .set('Authorization', `Bearer ${u.accessToken}`),
  },
  {
    name: 'GET /auth/sessions by session',
    send: (s, u) => request(s).get('/auth/sessions').set('Cookie', u.cookie),
  },
];

/** Sends each probe and returns its status and how long it took. */
async function timed(
  probe: Probe,
  server: Server,
  user: LoggedIn,
  admin: LoggedIn,
): Promise<{ res: request.Response; ms: number }> {
  const started = performance.now();
  const res = await probe.send(server, user, admin).timeout(HANG_GUARD);
  return { res, ms: performance.now() - started };
}

/** Latencies of every outage answer, reported at the end for the closing note. */
const latencies: Record<string, number[]> = {};

async function expectAccountRoutesUnavailable(
  kind: string,
  server: Server,
  user: LoggedIn,
  admin: LoggedIn,
): Promise<void> {
  for (const probe of ACCOUNT_ROUTES) {
    const { res, ms } = await timed(probe, server, user, admin);
    (latencies[kind] ??= []).push(Math.round(ms));
    expect({ probe: probe.name, status: res.status }).toEqual({
      probe: probe.name,
      status: 503,
    });
    expect({ probe: probe.name, body: res.body as object }).toEqual({
      probe: probe.name,
      body: expect.objectContaining({ error: 'database_unavailable' }),
    });
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect({ probe: probe.name, slow: ms > OUTAGE_ANSWER_MS }).toEqual({
      probe: probe.name,
      slow: false,
    });
  }
  const health = await request(server).get('/health').timeout(HANG_GUARD);
  expect(health.status).toBe(503);
  expect(health.headers['retry-after']).toMatch(/^\d+$/);
  expect(health.body).toEqual({
    status: 'error',
    redis: 'up',
    database: 'down',
  });
}

async function expectCredentialRoutesServed(
  server: Server,
  user: LoggedIn,
  admin: LoggedIn,
): Promise<void> {
  for (const probe of CREDENTIAL_ROUTES) {
    const { res } = await timed(probe, server, user, admin);
    expect({ probe: probe.name, status: res.status }).toEqual({
      probe: probe.name,
      status: 200,
    });
  }
}

async function waitUntilHealthy(server: Server): Promise<void> {
  await waitUntil(
    async () =>
      (await request(server).get('/health').timeout(HANG_GUARD)).status === 200,
    '/health to answer 200 again',
    20_000,
  );
}

describe('PostgreSQL outage', () => {
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let pg: PostgresProcess;
  let t: TestApp;
  let admin: LoggedIn;

  beforeAll(async () => {
    pg = await PostgresProcess.create();
    t = await startApp({
      DATABASE_URL: pg.url,
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
    });
    admin = {
      ...(await login(t.server, adminName, adminPassword)),
      userId: '',
    };
  });
  afterAll(async () => {
    pg?.thaw();
    await t?.close();
    await pg?.destroy();
    console.log(
      `503 latencies during the database outage (ms): ${JSON.stringify(latencies)}`,
    );
  });
  afterEach(async () => {
    pg.thaw();
    await pg.start().catch(() => undefined);
    await waitUntilHealthy(t.server);
  });

  it('stopped: account routes answer 503 with Retry-After within 2 s, credentials keep working, and it heals', async () => {
    const user = await registerAndLogin(t.server);
    await pg.stop();
    await expectAccountRoutesUnavailable('stopped', t.server, user, admin);
    await expectCredentialRoutesServed(t.server, user, admin);
    await pg.start();
    await waitUntilHealthy(t.server);
    const again = await registerAndLogin(t.server);
    await expectCredentialRoutesServed(t.server, again, admin);
    await login(t.server, user.username);
  });

  it('frozen (SIGSTOP): account routes answer 503 with Retry-After within 2 s, credentials keep working, and it heals', async () => {
    const user = await registerAndLogin(t.server);
    pg.freeze();
    await expectAccountRoutesUnavailable('frozen', t.server, user, admin);
    await expectCredentialRoutesServed(t.server, user, admin);
    pg.thaw();
    await waitUntilHealthy(t.server);
    await login(t.server, user.username);
    await registerAndLogin(t.server);
  });
});

describe('boot without PostgreSQL', () => {
  let pg: PostgresProcess | undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    await pg?.destroy();
  });

  it('starts, answers 503 on account routes meanwhile, and migrates, seeds and serves once PostgreSQL appears', async () => {
    const port = await freePort();
    const adminName = uniqueName('admin');
    t = await startApp({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: PASSWORD,
    });
    const health = await request(t.server).get('/health').timeout(HANG_GUARD);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({
      status: 'error',
      redis: 'up',
      database: 'down',
    });
    const refused = await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: PASSWORD })
      .timeout(HANG_GUARD);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'database_unavailable' });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    await request(t.server).get('/auth/login').timeout(HANG_GUARD).expect(200);

    pg = await PostgresProcess.create(port);
    await waitUntilHealthy(t.server);
    await registerAndLogin(t.server);
    // The admin account configured at boot is created once the database is there.
    await waitUntil(
      async () =>
        (
          await request(t!.server).post('/auth/token').type('form').send({
            grant_type: 'password',
            username: adminName,
            password: PASSWORD,
          })
        ).status === 200,
      'the admin account to be seeded',
      20_000,
    );
  });
});
