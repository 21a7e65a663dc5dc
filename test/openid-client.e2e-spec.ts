import * as client from 'openid-client';
import { PASSWORD, register, uniqueName } from './helpers/logins.js';
import { startApp, TestApp } from './helpers/test-app.js';

const CLIENT_ID = 'mobile-app';
/** Characters the client form-urlencodes before HTTP Basic (RFC 6749 2.3.1). */
const RESOURCE_SERVER = {
  id: 'billing-api',
  secret: 'billing secret+with:reserved%chars',
};

/** openid-client (panva, v6) in plain OAuth 2.0 mode, over HTTP on loopback. */
describe('OAuth2 client library (openid-client)', () => {
  let t: TestApp;
  /** No reuse grace, so a rotated refresh token presented again is a reuse. */
  let strict: TestApp;
  beforeAll(async () => {
    const env = {
      INTROSPECTION_CLIENTS: `${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`,
    };
    t = await startApp(env, { listen: true });
    strict = await startApp(
      { ...env, REFRESH_REUSE_GRACE_SECONDS: '0' },
      { listen: true },
    );
  });
  afterAll(async () => {
    await strict?.close();
    await t?.close();
  });

  /** A public client: the token endpoint takes no client authentication. */
  const discoverApp = (issuer: string) =>
    client.discovery(new URL(issuer), CLIENT_ID, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });

  /** A resource server listed in INTROSPECTION_CLIENTS, authenticating with HTTP Basic. */
  const discoverResourceServer = (issuer: string) =>
    client.discovery(
      new URL(issuer),
      RESOURCE_SERVER.id,
      undefined,
      client.ClientSecretBasic(RESOURCE_SERVER.secret),
      { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
    );

  async function passwordGrant(config: client.Configuration, scope?: string) {
    const { username } = await register(t.server);
    const tokens = await client.genericGrantRequest(config, 'password', {
      username,
      password: PASSWORD,
      ...(scope !== undefined && { scope }),
    });
    return { username, tokens };
  }

  const me = (issuer: string, accessToken: string) =>
    fetch(`${issuer}/admin/me`, {
      headers: { Authorization: `Bearer ${accessToken}` },
    });

  it('discovers the endpoints through the RFC 8414 document', async () => {
    const config = await discoverApp(t.url);
    expect(config.serverMetadata()).toMatchObject({
      issuer: t.url,
      token_endpoint: `${t.url}/auth/token`,
      revocation_endpoint: `${t.url}/auth/revoke`,
      introspection_endpoint: `${t.url}/auth/introspect`,
      grant_types_supported: ['password', 'refresh_token'],
      scopes_supported: ['profile', 'logins', 'account', 'admin'],
    });
  });

  it('gets a token pair with the password grant, narrowed to the requested scope', async () => {
    const config = await discoverApp(t.url);
    const { username, tokens } = await passwordGrant(config, 'profile admin');
    // admin is not this account's to have: left out, and the answer says so.
    expect(tokens).toMatchObject({
      token_type: 'bearer',
      scope: 'profile',
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
    expect(tokens.expiresIn()).toBeGreaterThan(0);
    const res = await me(t.url, tokens.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username });
    const sessions = await fetch(`${t.url}/auth/sessions`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(sessions.status).toBe(403);
  });

  it('surfaces invalid_grant as a ResponseBodyError for a wrong password', async () => {
    const config = await discoverApp(t.url);
    const { username } = await register(t.server);
    await expect(
      client.genericGrantRequest(config, 'password', {
        username,
        password: 'not the right password',
      }),
    ).rejects.toMatchObject({
      name: 'ResponseBodyError',
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('refreshes into a new pair that works; an honest retry within the grace gets the same pair', async () => {
    const config = await discoverApp(t.url);
    const { username, tokens } = await passwordGrant(config);
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(next.refresh_token).toEqual(expect.any(String));
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(next.scope).toBe('profile logins account');
    const res = await me(t.url, next.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username });

    const retry = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(retry.access_token).toBe(next.access_token);
    expect(retry.refresh_token).toBe(next.refresh_token);
  });

  it('narrows the scope on refresh and refuses to widen it with invalid_scope', async () => {
    const config = await discoverApp(t.url);
    const { tokens } = await passwordGrant(config, 'profile logins');
    const narrowed = await client.refreshTokenGrant(
      config,
      tokens.refresh_token!,
      { scope: 'profile' },
    );
    expect(narrowed.scope).toBe('profile');
    await expect(
      client.refreshTokenGrant(config, narrowed.refresh_token!, {
        scope: 'profile account',
      }),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('ends the login when a rotated refresh token is reused with no grace window', async () => {
    const config = await discoverApp(strict.url);
    const { username } = await register(strict.server);
    const tokens = await client.genericGrantRequest(config, 'password', {
      username,
      password: PASSWORD,
    });
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await me(strict.url, next.access_token)).status).toBe(200);

    await expect(
      client.refreshTokenGrant(config, tokens.refresh_token!),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_grant' });
    // Everything the login held is gone, the successor pair included.
    expect((await me(strict.url, next.access_token)).status).toBe(401);
    expect((await me(strict.url, tokens.access_token)).status).toBe(401);
    await expect(
      client.refreshTokenGrant(config, next.refresh_token!),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('introspects access and refresh tokens as a listed resource server (client_secret_basic)', async () => {
    const config = await discoverApp(t.url);
    const rs = await discoverResourceServer(t.url);
    const { username, tokens } = await passwordGrant(config, 'profile logins');

    const access = await client.tokenIntrospection(rs, tokens.access_token);
    expect(access).toMatchObject({
      active: true,
      scope: 'profile logins',
      username,
      sub: expect.any(String),
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    expect(access.exp!).toBeGreaterThan(access.iat!);

    const refresh = await client.tokenIntrospection(rs, tokens.refresh_token!, {
      token_type_hint: 'refresh_token',
    });
    expect(refresh).toMatchObject({
      active: true,
      scope: 'profile logins',
      username,
      sub: access.sub,
    });

    expect(
      await client.tokenIntrospection(rs, 'not-a-token-of-this-server'),
    ).toEqual({ active: false });
  });

  it('is refused introspection with a wrong resource server secret', async () => {
    const config = await discoverApp(t.url);
    const { tokens } = await passwordGrant(config);
    const impostor = await client.discovery(
      new URL(t.url),
      RESOURCE_SERVER.id,
      undefined,
      client.ClientSecretBasic('not-the-secret'),
      { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
    );
    await expect(
      client.tokenIntrospection(impostor, tokens.access_token),
    ).rejects.toMatchObject({ status: 401 });
    // Nor may the app's own public client introspect.
    await expect(
      client.tokenIntrospection(config, tokens.access_token),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('revokes an access token alone: 401 on GET /admin/me, the login lives on', async () => {
    const config = await discoverApp(t.url);
    const rs = await discoverResourceServer(t.url);
    const { tokens } = await passwordGrant(config);

    await client.tokenRevocation(config, tokens.access_token, {
      token_type_hint: 'access_token',
    });
    expect((await me(t.url, tokens.access_token)).status).toBe(401);
    expect(await client.tokenIntrospection(rs, tokens.access_token)).toEqual({
      active: false,
    });
    // Revoking it again, or something unknown, is no error (RFC 7009 2.2).
    await client.tokenRevocation(config, tokens.access_token);
    await client.tokenRevocation(config, uniqueName('unknown'));

    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await me(t.url, next.access_token)).status).toBe(200);
  });

  it('revokes a refresh token by ending its whole login', async () => {
    const config = await discoverApp(t.url);
    const rs = await discoverResourceServer(t.url);
    const { tokens } = await passwordGrant(config);

    await client.tokenRevocation(config, tokens.refresh_token!, {
      token_type_hint: 'refresh_token',
    });
    expect((await me(t.url, tokens.access_token)).status).toBe(401);
    expect(await client.tokenIntrospection(rs, tokens.refresh_token!)).toEqual({
      active: false,
    });
    await expect(
      client.refreshTokenGrant(config, tokens.refresh_token!),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});
