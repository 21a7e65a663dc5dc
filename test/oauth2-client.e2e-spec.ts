import { ResourceOwnerPassword } from 'simple-oauth2';
import { PASSWORD, register } from './helpers/logins.js';
import { startApp, TestApp } from './helpers/test-app.js';

/** A stock OAuth2 client library talking to the token endpoint over HTTP. */
describe('OAuth2 client library (simple-oauth2)', () => {
  let t: TestApp;
  let client: ResourceOwnerPassword;

  beforeAll(async () => {
    t = await startApp({}, { listen: true });
    client = new ResourceOwnerPassword({
      client: { id: 'api-client', secret: 'client-secret-is-ignored' },
      auth: { tokenHost: t.url, tokenPath: '/auth/token' },
      options: { authorizationMethod: 'body' },
    });
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
});
