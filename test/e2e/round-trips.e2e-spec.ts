import request from 'supertest';
import { AppRedisCommands } from '../helpers/redis-monitor.js';
import { Database } from '../../src/infra/db/database.js';
import {
  LoggedIn,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

/** One Redis round trip per authenticated request is a design rule; these guard it. */
describe('Redis work per authenticated request', () => {
  let t: TestApp;
  let commands: AppRedisCommands;
  let user: LoggedIn;

  beforeAll(async () => {
    t = await startApp();
    user = await registerAndLogin(t.server);
    commands = new AppRedisCommands(t.redis);
    await commands.start();
  });
  afterAll(async () => {
    commands.stop();
    await t.close();
  });

  async function commandsFor(send: () => Promise<unknown>): Promise<string[]> {
    // The first request of a login may write its last-seen time; measure a steady request.
    await send();
    await commands.flush();
    commands.clear();
    await send();
    await commands.flush();
    return commands.commands.map((c) => c[0]);
  }

  it('answers GET /admin/me by session with one GETEX that also slides the idle TTL', async () => {
    const sent = await commandsFor(() =>
      request(t.server).get('/admin/me').set('Cookie', user.cookie).expect(200),
    );
    expect(sent).toEqual(['getex']);
  });

  it('answers GET /admin/me by bearer token with one GET', async () => {
    const sent = await commandsFor(() =>
      request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(200),
    );
    expect(sent).toEqual(['get']);
  });

  it('refuses an unknown bearer token after one GET, and a malformed one without Redis', async () => {
    const unknown = await commandsFor(() =>
      request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${'x'.repeat(43)}`)
        .expect(401),
    );
    expect(unknown).toEqual(['get']);
    const malformed = await commandsFor(() =>
      request(t.server)
        .get('/admin/me')
        .set('Authorization', 'Bearer not-a-token')
        .expect(401),
    );
    expect(malformed).toEqual([]);
  });

  it('stays at one command per request over 1,000 session and bearer requests', async () => {
    const rounds = 500;
    await commandsFor(() =>
      request(t.server).get('/admin/me').set('Cookie', user.cookie).expect(200),
    );
    commands.clear();
    for (let i = 0; i < rounds; i++) {
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(200);
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .expect(200);
    }
    await commands.flush();
    const counts: Record<string, number> = {};
    for (const [name] of commands.commands)
      counts[name] = (counts[name] ?? 0) + 1;
    expect(counts).toEqual({ getex: rounds, get: rounds });
  });

  it('serves anonymous public pages without touching Redis', async () => {
    const sent = await commandsFor(() =>
      request(t.server).get('/auth/login').expect(200),
    );
    expect(sent).toEqual([]);
  });
});

/**
 * Redis commands as `INFO commandstats` counts them (those inside scripts too) for the
 * operations a login storm repeats; each bound is the design's, so a change that adds a
 * command shows up here.
 */
describe('Redis work per login, refresh and logout', () => {
  let t: TestApp;
  let commands: AppRedisCommands;

  beforeAll(async () => {
    t = await startApp();
    commands = new AppRedisCommands(t.redis);
    await commands.start();
  });
  afterAll(async () => {
    commands.stop();
    await t.close();
  });

  // Measured steady: scripts already loaded, so no NOSCRIPT retry counts.
  beforeAll(async () => {
    const { username } = await register(t.server, uniqueName('warm'));
    const first = await passwordGrant(username);
    const body = first.body as { access_token: string; refresh_token: string };
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: body.refresh_token })
      .expect(200);
    await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${body.access_token}`)
      .expect(200);
  });

  async function costOf<T>(send: () => Promise<T>) {
    const database = t.app.get(Database);
    await commands.flush();
    commands.clear();
    const queries = database.queryCount;
    const result = await send();
    await commands.flush();
    return {
      result,
      redis: commands.commandstats,
      names: [...commands.commands, ...commands.inScripts].map((c) => c[0]),
      queries: database.queryCount - queries,
    };
  }

  const passwordGrant = (username: string) =>
    request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'password', username, password: PASSWORD })
      .expect(200);

  it('logs in with the password grant in at most 25 Redis commands and one query', async () => {
    const { username } = await register(t.server, uniqueName('cost'));
    const cost = await costOf(() => passwordGrant(username));
    // Throttle: reserve 2 x 4, refund 2 x 3; the login epoch's GET; session, access and
    // refresh token SETs; the login record in one script of 7. 23 before issue 20, which
    // added 2 against the login epoch race: the epoch's read before the password check, and
    // the script's check of it.
    expect(cost.redis).toBeLessThanOrEqual(25);
    expect(cost.names).not.toContain('eval');
    expect(cost.queries).toBe(1);
  });

  it('refreshes a token in at most 8 Redis commands and no query', async () => {
    const { username } = await register(t.server, uniqueName('cost'));
    const first = await passwordGrant(username);
    const cost = await costOf(() =>
      request(t.server)
        .post('/auth/token')
        .type('form')
        .send({
          grant_type: 'refresh_token',
          refresh_token: (first.body as { refresh_token: string })
            .refresh_token,
        })
        .expect(200),
    );
    // The token's record, the login's, the successor's two SETs, the rotation script of 4.
    expect(cost.redis).toBeLessThanOrEqual(8);
    expect(cost.queries).toBe(0);
  });

  it('logs out in at most 9 Redis commands and no query, the bearer check included', async () => {
    const { username } = await register(t.server, uniqueName('cost'));
    const first = await passwordGrant(username);
    const token = (first.body as { access_token: string }).access_token;
    const cost = await costOf(() =>
      request(t.server)
        .post('/auth/logout')
        .set('Authorization', `Bearer ${token}`)
        .expect(200),
    );
    // The bearer check; the record's read; the session's and both tokens' DELs; the take script of 4.
    expect(cost.redis).toBeLessThanOrEqual(9);
    expect(cost.queries).toBe(0);
  });
});
