import type { Server } from 'node:http';
import request from 'supertest';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { sessionCookie } from '../helpers/cookies.js';
import { PASSWORD, register } from '../helpers/logins.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually, waitUntil } from '../helpers/waiting.js';

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

function passwordLogin(server: Server, username: string, scope?: string) {
  return request(server)
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'password',
      username,
      password: PASSWORD,
      ...(scope !== undefined && { scope }),
    });
}

function refresh(server: Server, refreshToken: string, scope?: string) {
  return request(server)
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...(scope !== undefined && { scope }),
    });
}

const me = (server: Server, accessToken: string) =>
  request(server)
    .get('/admin/me')
    .set('Authorization', `Bearer ${accessToken}`);

async function loggedIn(server: Server, scope?: string) {
  const { username } = await register(server);
  const res = await passwordLogin(server, username, scope).expect(200);
  return {
    username,
    tokens: res.body as Tokens,
    cookie: sessionCookie(res)!,
  };
}

describe('refresh tokens (RFC 6749 6): rotation, reuse detection, grace', () => {
  let a: TestApp;
  let b: TestApp;
  /** No grace: a rotated token presented again is always a reuse. */
  let strict: TestApp;
  const redis = inspectRedis();
  beforeAll(async () => {
    a = await startApp();
    b = await startApp();
    strict = await startApp({ REFRESH_REUSE_GRACE_SECONDS: '0' });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), strict.close()]);
    redis.disconnect();
  });

  it('answers a password login with a refresh token and its scope', async () => {
    const { tokens } = await loggedIn(a.server);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.scope).toBe('profile logins account');
    // Stored only as its SHA-256.
    expect(
      await redis.exists(redisKeys.refreshToken(tokens.refresh_token)),
    ).toBe(0);
    expect(
      await redis.exists(
        redisKeys.refreshToken(hashSecret(tokens.refresh_token)),
      ),
    ).toBe(1);
  });

  it('rotates: a new access token and a new refresh token, on another instance too', async () => {
    const { tokens } = await loggedIn(a.server);
    const res = await refresh(b.server, tokens.refresh_token).expect(200);
    const next = res.body as Tokens;
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(next).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(next.scope).toBe(tokens.scope);
    await me(a.server, next.access_token).expect(200);
    // The successor rotates in turn.
    await refresh(a.server, next.refresh_token).expect(200);
  });

  it('ends the whole login when a rotated refresh token is presented again', async () => {
    const { tokens, cookie } = await loggedIn(strict.server);
    const next = (
      await refresh(strict.server, tokens.refresh_token).expect(200)
    ).body as Tokens;
    const reuse = await refresh(strict.server, tokens.refresh_token).expect(
      400,
    );
    expect(reuse.body).toMatchObject({ error: 'invalid_grant' });
    // Everything the login held is gone: session, access tokens, the successor refresh token.
    await me(strict.server, tokens.access_token).expect(401);
    await me(strict.server, next.access_token).expect(401);
    await request(strict.server)
      .get('/admin/me')
      .set('Cookie', cookie)
      .expect(401);
    await refresh(strict.server, next.refresh_token).expect(400);
  });

  it('gives an honest retry within the grace window the same successor pair, and keeps the login', async () => {
    const { tokens } = await loggedIn(a.server);
    const first = (await refresh(a.server, tokens.refresh_token).expect(200))
      .body as Tokens;
    const again = (await refresh(b.server, tokens.refresh_token).expect(200))
      .body as Tokens;
    expect(again.refresh_token).toBe(first.refresh_token);
    expect(again.access_token).toBe(first.access_token);
    await me(a.server, first.access_token).expect(200);
    await refresh(b.server, first.refresh_token).expect(200);
  });

  it('leaves exactly one live refresh token after parallel refreshes over two instances, each answer usable at once', async () => {
    const { tokens } = await loggedIn(a.server);
    // Each caller uses its access token the moment its answer arrives, as a client would.
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await refresh(
          i % 2 ? a.server : b.server,
          tokens.refresh_token,
        );
        const body = res.body as Tokens;
        const used =
          res.status === 200
            ? (await me(b.server, body.access_token)).status
            : 0;
        return { status: res.status, body, used };
      }),
    );
    expect(answers.map((r) => [r.status, r.used])).toEqual(
      answers.map(() => [200, 200]),
    );
    const bodies = answers.map((r) => r.body);
    expect(new Set(bodies.map((t) => t.refresh_token)).size).toBe(1);
    await refresh(a.server, bodies[0].refresh_token).expect(200);
  });

  it('lets a refresh narrow the scope, never widen it', async () => {
    const { tokens } = await loggedIn(a.server, 'profile logins');
    expect(tokens.scope).toBe('profile logins');
    const narrow = (
      await refresh(a.server, tokens.refresh_token, 'profile').expect(200)
    ).body as Tokens;
    expect(narrow.scope).toBe('profile');
    await me(a.server, narrow.access_token).expect(200);
    const refused = await request(a.server)
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${narrow.access_token}`)
      .expect(403);
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="auth", error="insufficient_scope", scope="logins"',
    );
    // The refresh token keeps the login's grant: the next refresh may ask for "logins" again.
    const wide = (await refresh(a.server, narrow.refresh_token).expect(200))
      .body as Tokens;
    expect(wide.scope).toBe('profile logins');
    const widened = await refresh(
      a.server,
      wide.refresh_token,
      'account',
    ).expect(400);
    expect(widened.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses unknown refresh tokens and malformed refresh requests with 400, never 5xx', async () => {
    for (const token of ['x', 'Z'.repeat(43), '../../etc', 'a'.repeat(1024)])
      expect((await refresh(a.server, token)).body).toMatchObject({
        error: 'invalid_grant',
      });
    await request(a.server)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'refresh_token' })
      .expect(400);
    await request(a.server)
      .post('/auth/token')
      .send({ grant_type: 'refresh_token', refresh_token: ['a', 'b'] })
      .expect(400);
  });

  it('ends refresh tokens with their login: logout, and the keys go too', async () => {
    const { tokens } = await loggedIn(a.server);
    const next = (await refresh(a.server, tokens.refresh_token).expect(200))
      .body as Tokens;
    await request(a.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${next.access_token}`)
      .expect(200);
    await refresh(a.server, next.refresh_token).expect(400);
    for (const token of [tokens.refresh_token, next.refresh_token])
      expect(
        await redis.exists(redisKeys.refreshToken(hashSecret(token))),
      ).toBe(0);
  });

  it('leaves nothing live when a refresh races a logout-all', async () => {
    for (let round = 0; round < 5; round++) {
      const { tokens } = await loggedIn(a.server);
      const [refreshed] = await Promise.all([
        refresh(b.server, tokens.refresh_token),
        request(a.server)
          .post('/auth/logout-all')
          .set('Authorization', `Bearer ${tokens.access_token}`)
          .expect(200),
      ]);
      if (refreshed.status === 200) {
        const body = refreshed.body as Tokens;
        await me(a.server, body.access_token).expect(401);
        await refresh(a.server, body.refresh_token).expect(400);
      } else expect(refreshed.body).toMatchObject({ error: 'invalid_grant' });
      await refresh(a.server, tokens.refresh_token).expect(400);
    }
  });

  it('gives a browser form login no refresh token: its session is all it keeps', async () => {
    const { username } = await register(a.server);
    const res = await request(a.server)
      .post('/auth/token')
      .set('Accept', 'text/html')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(303);
    expect(res.body).toEqual({});
    expect(sessionCookie(res)).toBeDefined();
  });
});

describe('scopes (RFC 6749 3.3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('grants what was asked for and the roles allow, leaving out the rest', async () => {
    const { tokens } = await loggedIn(t.server, 'profile admin');
    expect(tokens.scope).toBe('profile');
    const res = await passwordLogin(
      t.server,
      (await register(t.server)).username,
      'profile nonsense',
    ).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses a bearer token without the route scope with 403 insufficient_scope, and needs none for logout', async () => {
    const { tokens } = await loggedIn(t.server, 'logins');
    const res = await me(t.server, tokens.access_token).expect(403);
    expect(res.body).toMatchObject({ error: 'insufficient_scope' });
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="auth", error="insufficient_scope", scope="profile"',
    );
    await request(t.server)
      .post('/auth/password')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ currentPassword: PASSWORD, newPassword: 'plum-orbit-tundra-47' })
      .expect(403);
    await request(t.server)
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(200);
    await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(200);
  });

  it('gives a session every scope its roles allow, whatever its login asked for', async () => {
    const { cookie } = await loggedIn(t.server, 'logins');
    await request(t.server).get('/admin/me').set('Cookie', cookie).expect(200);
  });

  it('shows each login’s granted scopes in the list of logins', async () => {
    const { tokens } = await loggedIn(t.server, 'logins account');
    const res = await request(t.server)
      .get('/auth/sessions')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .expect(200);
    expect((res.body as { scope: string }[])[0].scope).toBe('logins account');
  });
});

describe('refresh-token lifetimes', () => {
  let t: TestApp;
  const redis = inspectRedis();
  beforeAll(async () => {
    t = await startApp({
      REFRESH_TOKEN_IDLE_SECONDS: '2',
      REFRESH_TOKEN_ABSOLUTE_SECONDS: '4',
      SESSION_IDLE_SECONDS: '1',
      SESSION_ABSOLUTE_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await t.close();
    redis.disconnect();
  });

  const refreshKeyTtl = (token: string) =>
    redis.pttl(redisKeys.refreshToken(hashSecret(token)));

  it('caps every refresh token at the idle timeout and the login at the refresh absolute lifetime', async () => {
    const { tokens } = await loggedIn(t.server);
    const ttl = await refreshKeyTtl(tokens.refresh_token);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    const next = (await refresh(t.server, tokens.refresh_token).expect(200))
      .body as Tokens;
    expect(await refreshKeyTtl(next.refresh_token)).toBeLessThanOrEqual(2000);
    // The access token never outlives the login either.
    expect(next.expires_in).toBeLessThanOrEqual(4);
  });

  it('ends an unused refresh token after the idle timeout', async () => {
    const { tokens } = await loggedIn(t.server);
    await waitForKeyGone(
      redisKeys.refreshToken(hashSecret(tokens.refresh_token)),
    );
    const res = await refresh(t.server, tokens.refresh_token).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('ends a busy login at the refresh absolute lifetime, however often it rotates', async () => {
    let { tokens } = await loggedIn(t.server);
    const started = Date.now();
    // Rotate every 500 ms, well inside the idle timeout, until the login's absolute end refuses it.
    const ended = await eventually(
      async () => {
        const res = await refresh(t.server, tokens.refresh_token);
        if (res.status === 200) {
          tokens = res.body as Tokens;
          return undefined;
        }
        expect(res.body).toMatchObject({ error: 'invalid_grant' });
        return true;
      },
      'the refresh absolute lifetime to refuse a rotation',
      10_000,
      500,
    );
    expect(ended).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  });

  async function waitForKeyGone(key: string): Promise<void> {
    await waitUntil(
      async () => (await redis.exists(key)) === 0,
      `${key} to expire`,
      10_000,
      100,
    );
  }
});
