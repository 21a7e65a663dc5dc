import request from 'supertest';
import { AppRedisCommands } from '../helpers/redis-monitor.js';
import { LoggedIn, registerAndLogin } from '../helpers/logins.js';
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
