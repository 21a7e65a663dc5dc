import type { Server } from 'node:http';
import request from 'supertest';
import { sessionCookie } from '../helpers/cookies.js';
import { PASSWORD, register, uniqueName } from '../helpers/logins.js';
import { bearer, createPersonalToken } from '../helpers/personal-tokens.js';
import { startApp, TestApp } from '../helpers/test-app.js';

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

const RS_SECRET = 'resource-server-secret-0123456789';

async function passwordLogin(
  server: Server,
  username: string,
  password = PASSWORD,
) {
  const res = await request(server)
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'password', username, password })
    .expect(200);
  return { tokens: res.body as Tokens, cookie: sessionCookie(res)! };
}

describe('revocation (RFC 7009), introspection (RFC 7662), discovery (RFC 8414)', () => {
  let t: TestApp;
  const adminName = uniqueName('admin');
  const adminPassword = `admin ${uniqueName('secret')} phrase`;
  let admin: Awaited<ReturnType<typeof passwordLogin>>;
  beforeAll(async () => {
    t = await startApp({
      ADMIN_USERNAME: adminName,
      ADMIN_PASSWORD: adminPassword,
      INTROSPECTION_CLIENTS: `billing:${RS_SECRET}`,
    });
    admin = await passwordLogin(t.server, adminName, adminPassword);
  });
  afterAll(() => t.close());

  async function newUser() {
    const { username } = await register(t.server);
    return { username, ...(await passwordLogin(t.server, username)) };
  }
  const me = (accessToken: string) =>
    request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${accessToken}`);
  const asResourceServer = (secret = RS_SECRET) =>
    `Basic ${Buffer.from(`billing:${secret}`).toString('base64')}`;
  const introspect = (token: string, authorization: string, hint?: string) =>
    request(t.server)
      .post('/auth/introspect')
      .set('Authorization', authorization)
      .type('form')
      .send({ token, ...(hint && { token_type_hint: hint }) });
  const revoke = (body: object) =>
    request(t.server).post('/auth/revoke').type('form').send(body);

  it('revokes an access token alone, and answers 200 for unknown and repeated revocations', async () => {
    const user = await newUser();
    await revoke({ token: user.tokens.access_token }).expect(200);
    await me(user.tokens.access_token).expect(401);
    // The rest of the login lives on.
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await revoke({ token: user.tokens.access_token }).expect(200);
    await revoke({
      token: 'never-issued',
      token_type_hint: 'refresh_token',
    }).expect(200);
  });

  it('revokes a refresh token by ending its whole login', async () => {
    const user = await newUser();
    await revoke({
      token: user.tokens.refresh_token,
      token_type_hint: 'refresh_token',
    }).expect(200);
    await me(user.tokens.access_token).expect(401);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(401);
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'refresh_token',
        refresh_token: user.tokens.refresh_token,
      })
      .expect(400);
  });

  it('refuses a revocation without a token with 400 invalid_request', async () => {
    const res = await revoke({}).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    await request(t.server)
      .post('/auth/revoke')
      .send({ token: ['a', 'b'] })
      .expect(400);
  });

  it('introspects live access and refresh tokens for a listed resource server', async () => {
    const user = await newUser();
    const access = await introspect(
      user.tokens.access_token,
      asResourceServer(),
    ).expect(200);
    expect(access.headers['cache-control']).toBe('no-store');
    expect(access.body).toEqual({
      active: true,
      token_type: 'bearer',
      scope: 'profile logins account',
      username: user.username,
      sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    const body = access.body as { exp: number; iat: number };
    expect(body.exp).toBeGreaterThan(body.iat);
    const refresh = await introspect(
      user.tokens.refresh_token,
      asResourceServer(),
      'refresh_token',
    ).expect(200);
    expect(refresh.body).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      username: user.username,
    });
  });

  it('answers {"active":false} for anything not live: unknown, revoked, rotated', async () => {
    const user = await newUser();
    const rotated = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'refresh_token',
        refresh_token: user.tokens.refresh_token,
      })
      .expect(200);
    expect(rotated.body).toHaveProperty('refresh_token');
    await revoke({ token: user.tokens.access_token }).expect(200);
    for (const token of [
      'unknown',
      user.tokens.access_token,
      user.tokens.refresh_token,
    ]) {
      const res = await introspect(token, asResourceServer()).expect(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it('lets an admin introspect by bearer token or session, and nobody else', async () => {
    const user = await newUser();
    await introspect(
      user.tokens.access_token,
      `Bearer ${admin.tokens.access_token}`,
    ).expect(200);
    await request(t.server)
      .post('/auth/introspect')
      .set('Cookie', admin.cookie)
      .type('form')
      .send({ token: user.tokens.access_token })
      .expect(200);
    for (const authorization of [
      `Bearer ${user.tokens.access_token}`,
      asResourceServer('wrong-secret-0123456789abcdef'),
      'Basic !!!',
      '',
    ]) {
      const res = await introspect(user.tokens.access_token, authorization);
      expect({ authorization, status: res.status }).toEqual({
        authorization,
        status: 401,
      });
      expect(res.body).not.toHaveProperty('active');
    }
    await request(t.server)
      .post('/auth/introspect')
      .set('Cookie', user.cookie)
      .type('form')
      .send({ token: user.tokens.access_token })
      .expect(401);
  });

  it("lets an admin's personal token with the admin scope introspect, as it passes /admin/users, and no other personal token", async () => {
    const user = await newUser();
    const adminPat = await createPersonalToken(
      t.server,
      { Cookie: admin.cookie },
      { scopes: ['profile', 'admin'], currentPassword: adminPassword },
    );
    // The guard takes it for /admin/users ...
    await request(t.server)
      .get('/admin/users')
      .set(bearer(adminPat.token))
      .expect(200);
    // ... and introspection, resolving bearer values the same way, takes it too.
    const seen = await introspect(
      user.tokens.access_token,
      `Bearer ${adminPat.token}`,
    ).expect(200);
    expect(seen.body).toMatchObject({ active: true, username: user.username });

    const narrowPat = await createPersonalToken(
      t.server,
      { Cookie: admin.cookie },
      { scopes: ['profile'], currentPassword: adminPassword },
    );
    const userPat = await createPersonalToken(
      t.server,
      bearer(user.tokens.access_token),
      { scopes: ['profile'] },
    );
    for (const token of [narrowPat.token, userPat.token]) {
      const res = await introspect(user.tokens.access_token, `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body).not.toHaveProperty('active');
    }
  });

  it('introspects a live personal token for a resource server, and revokes it for whoever holds it', async () => {
    const user = await newUser();
    const pat = await createPersonalToken(
      t.server,
      bearer(user.tokens.access_token),
      { scopes: ['profile', 'logins'], expiresInDays: 7 },
    );
    const live = await introspect(pat.token, asResourceServer()).expect(200);
    expect(live.body).toEqual({
      active: true,
      token_type: 'bearer',
      scope: 'profile logins',
      username: user.username,
      sub: expect.any(String),
      exp: Math.floor(Date.parse(pat.expiresAt) / 1000),
    });
    // A mistyped one is simply not active.
    const mistyped = `${pat.token.slice(0, -1)}${pat.token.endsWith('A') ? 'B' : 'A'}`;
    expect(
      (await introspect(mistyped, asResourceServer()).expect(200)).body,
    ).toEqual({ active: false });

    // RFC 7009: the holder revokes it without any other credential (a leaked token's finder).
    await revoke({ token: pat.token }).expect(200);
    await me(pat.token).expect(401);
    expect(
      (await introspect(pat.token, asResourceServer()).expect(200)).body,
    ).toEqual({ active: false });
    const listed = await request(t.server)
      .get('/auth/personal-tokens')
      .set('Authorization', `Bearer ${user.tokens.access_token}`)
      .expect(200);
    expect(listed.body).toEqual([]);
    // Revoking it again, or a mistyped one, is no error (RFC 7009 2.2).
    await revoke({ token: pat.token }).expect(200);
    await revoke({ token: mistyped }).expect(200);
  });

  it('publishes RFC 8414 metadata, the issuer being the request’s origin', async () => {
    const res = await request(t.server)
      .get('/.well-known/oauth-authorization-server')
      .set('Host', 'auth.example.test')
      .expect(200);
    const issuer = 'http://auth.example.test';
    expect(res.body).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/auth/token`,
      revocation_endpoint: `${issuer}/auth/revoke`,
      introspection_endpoint: `${issuer}/auth/introspect`,
      grant_types_supported: ['password', 'refresh_token'],
      scopes_supported: ['profile', 'logins', 'account', 'admin'],
      token_endpoint_auth_methods_supported: ['none'],
      response_types_supported: [],
    });
  });

  it('takes the issuer from PUBLIC_URL when set', async () => {
    const other = await startApp({ PUBLIC_URL: 'https://login.example.com' });
    try {
      const res = await request(other.server)
        .get('/.well-known/oauth-authorization-server')
        .expect(200);
      expect(res.body).toMatchObject({
        issuer: 'https://login.example.com',
        token_endpoint: 'https://login.example.com/auth/token',
      });
    } finally {
      await other.close();
    }
  });
});
