import { AccessToken, ResourceOwnerPassword } from 'simple-oauth2';
import { PASSWORD, register } from './helpers/logins.js';
import { startApp, TestApp } from './helpers/test-app.js';

/** A stock OAuth2 client library talking to the token endpoint over HTTP. */
describe('OAuth2 client library (simple-oauth2)', () => {
  let t: TestApp;
  let client: ResourceOwnerPassword;

  beforeAll(async () => {
    // No reuse grace: a rotated refresh token presented again is a reuse at once.
    t = await startApp({ REFRESH_REUSE_GRACE_SECONDS: '0' }, { listen: true });
    client = new ResourceOwnerPassword({
      client: { id: 'api-client', secret: 'client-secret-is-ignored' },
      auth: {
        tokenHost: t.url,
        tokenPath: '/auth/token',
        revokePath: '/auth/revoke',
      },
      options: { authorizationMethod: 'body' },
    });
  });

  const me = (accessToken: AccessToken) =>
    fetch(`${t.url}/admin/me`, {
      headers: {
        Authorization: `Bearer ${accessToken.token.access_token as string}`,
      },
    });
  afterAll(() => t.close());

  it('gets a token with the password grant that authenticates GET /admin/me', async () => {
    const { username } = await register(t.server);
    const accessToken = await client.getToken({ username, password: PASSWORD });
    expect(accessToken.token).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      expires_in: expect.any(Number),
    });
    expect(accessToken.expired()).toBe(false);

    const res = await fetch(`${t.url}/admin/me`, {
      headers: {
        Authorization: `Bearer ${accessToken.token.access_token as string}`,
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username });
  });

  it('surfaces invalid_grant to the client for a wrong password', async () => {
    const { username } = await register(t.server);
    await expect(
      client.getToken({ username, password: 'not the right password' }),
    ).rejects.toMatchObject({
      output: { statusCode: 400 },
      data: { payload: { error: 'invalid_grant' } },
    });
  });

  it('refreshes into a new pair that works, and the old refresh token is dead', async () => {
    const { username } = await register(t.server);
    const first = await client.getToken({ username, password: PASSWORD });
    expect(first.token).toMatchObject({
      refresh_token: expect.any(String),
      scope: 'profile logins account',
    });

    const second = await first.refresh();
    expect(second.token).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      scope: 'profile logins account',
    });
    expect(second.token.access_token).not.toBe(first.token.access_token);
    expect(second.token.refresh_token).not.toBe(first.token.refresh_token);
    expect(second.expired()).toBe(false);
    const res = await me(second);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username });

    // The successor refreshes in turn; the token it replaced no longer does.
    const third = await second.refresh();
    expect((await me(third)).status).toBe(200);
    await expect(second.refresh()).rejects.toMatchObject({
      output: { statusCode: 400 },
      data: { payload: { error: 'invalid_grant' } },
    });
    // Presenting it was a reuse: the login is over, its newest pair included.
    expect((await me(third)).status).toBe(401);
    await expect(third.refresh()).rejects.toMatchObject({
      data: { payload: { error: 'invalid_grant' } },
    });
  });

  it('narrows the scope when refresh() asks for less', async () => {
    const { username } = await register(t.server);
    const full = await client.getToken({ username, password: PASSWORD });
    const narrowed = await full.refresh({ scope: 'profile' });
    expect(narrowed.token.scope).toBe('profile');
    expect((await me(narrowed)).status).toBe(200);
    const sessions = await fetch(`${t.url}/auth/sessions`, {
      headers: {
        Authorization: `Bearer ${narrowed.token.access_token as string}`,
      },
    });
    expect(sessions.status).toBe(403);
  });

  it('ends the login with revokeAll()', async () => {
    const { username } = await register(t.server);
    const token = await client.getToken({ username, password: PASSWORD });
    await token.revokeAll();
    expect((await me(token)).status).toBe(401);
    await expect(token.refresh()).rejects.toMatchObject({
      data: { payload: { error: 'invalid_grant' } },
    });
  });
});
