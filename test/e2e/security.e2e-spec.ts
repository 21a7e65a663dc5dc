import { sessionCookie, signedCookie } from '../helpers/cookies.js';
import {
  login,
  madeUpAddress,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { sleep } from '../helpers/waiting.js';
import request from 'supertest';
import { newSessionId } from '../../src/credentials/session-id.js';

describe('CSRF defence for cookie-authenticated writes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ ALLOWED_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => t.close());

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
    ['a foreign Origin', { Origin: 'https://evil.example' }],
    ['Origin: null', { Origin: 'null' }],
    ['an Origin on another port', { Origin: 'http://127.0.0.1:1' }],
  ])(
    'refuses a session-authenticated logout with %s and keeps the session',
    async (_, headers) => {
      const user = await registerAndLogin(t.server);
      const res = await request(t.server)
        .post('/auth/logout')
        .set('Cookie', user.cookie)
        .set(headers)
        .expect(403);
      expect(res.body).toMatchObject({ error: 'cross_site_request' });
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(200);
    },
  );

  it('accepts a session-authenticated write from its own origin', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .set('Sec-Fetch-Site', 'same-origin')
      .expect(200);
  });

  it('accepts an Origin from ALLOWED_ORIGINS', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Cookie', user.cookie)
      .set('Origin', 'https://app.example.com')
      .expect(200);
  });

  it('does not apply to a request authenticated by a bearer token alone', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/logout')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Origin', 'https://evil.example')
      .expect(200);
  });

  it('refuses a cross-site login and a cross-site registration (login CSRF)', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ username, password: PASSWORD })
      .expect(403);
    await register(t.server, username);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(403);
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('answers a cross-site form post from a browser with 403, not a redirect', async () => {
    await request(t.server)
      .post('/auth/token')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'cross-site')
      .type('form')
      .send({ username: 'x', password: 'y' })
      .expect(403);
  });

  it('has no state-changing GET: GET /auth/logout is 404', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .get('/auth/logout')
      .set('Cookie', user.cookie)
      .expect(404);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
  });
});

describe('session fixation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('never adopts a session id the server did not issue', async () => {
    const username = uniqueName();
    await register(t.server, username);
    const planted = signedCookie(newSessionId(3600));
    const res = await request(t.server)
      .post('/auth/token')
      .set('Cookie', planted)
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(200);
    const issued = sessionCookie(res);
    expect(issued).toBeDefined();
    expect(issued).not.toBe(planted);
    await request(t.server).get('/admin/me').set('Cookie', planted).expect(401);
    await request(t.server).get('/admin/me').set('Cookie', issued!).expect(200);
  });

  it('issues a new session id at every login', async () => {
    const username = uniqueName();
    await register(t.server, username);
    const first = await login(t.server, username);
    const second = await login(t.server, username);
    expect(second.cookie).not.toBe(first.cookie);
  });

  it('gives anonymous requests no session cookie', async () => {
    for (const path of [
      '/',
      '/auth/login',
      '/health',
      '/admin/me',
      '/docs-json',
    ]) {
      const res = await request(t.server).get(path);
      expect(sessionCookie(res)).toBeUndefined();
    }
  });
});

describe('brute-force limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      TRUST_PROXY: '1',
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '3',
      LOGIN_FREE_FAILURES_PER_ADDRESS: '6',
    });
  });
  afterAll(() => t.close());

  // Addresses of this file's own, so their buckets start empty and are removed after the file.
  const freshAddress = madeUpAddress;
  const attempt = (username: string, password: string, from: string) =>
    request(t.server)
      .post('/auth/token')
      .set('X-Forwarded-For', from)
      .type('form')
      .send({ username, password });

  it('answers 429 with Retry-After once an account has had its free failures, and the wait grows', async () => {
    const username = uniqueName();
    await register(t.server, username);
    for (let i = 0; i < 3; i++)
      await attempt(username, 'wrong-password', freshAddress()).expect(400);
    const first = await attempt(username, PASSWORD, freshAddress()).expect(429);
    expect(Number(first.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Wait out the first delay, fail once more: the next wait is longer. A fixed sleep on
    // purpose: the delay is time that must pass, and any probe would be a further attempt.
    await sleep(Number(first.headers['retry-after']) * 1000 + 100);
    await attempt(username, 'wrong-password', freshAddress()).expect(400);
    const second = await attempt(username, PASSWORD, freshAddress()).expect(
      429,
    );
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(
      Number(first.headers['retry-after']),
    );
  });

  it('leaves other accounts alone while one is under attack', async () => {
    const victim = uniqueName();
    const bystander = uniqueName();
    await register(t.server, victim);
    await register(t.server, bystander);
    for (let i = 0; i < 4; i++)
      await attempt(victim, 'wrong-password', freshAddress());
    await attempt(victim, PASSWORD, freshAddress()).expect(429);
    await attempt(bystander, PASSWORD, freshAddress()).expect(200);
  });

  it('throttles one address spraying many accounts', async () => {
    const sprayer = freshAddress();
    for (let i = 0; i < 6; i++)
      await attempt(uniqueName(), 'wrong-password', sprayer).expect(400);
    const res = await attempt(uniqueName(), 'wrong-password', sprayer).expect(
      429,
    );
    expect(res.headers['retry-after']).toBeDefined();
    // The same sprayer cannot mint a fresh bucket by prepending a forged X-Forwarded-For hop.
    await attempt(
      uniqueName(),
      'wrong-password',
      `2001:db8:ffff::1, ${sprayer}`,
    ).expect(429);
  });

  it('treats an unknown user and a wrong password alike: same status, body and headers', async () => {
    const username = uniqueName();
    await register(t.server, username);
    const wrong = await attempt(
      username,
      'wrong-password',
      freshAddress(),
    ).expect(400);
    const unknown = await attempt(
      uniqueName(),
      'wrong-password',
      freshAddress(),
    ).expect(400);
    expect(unknown.body).toEqual(wrong.body);
    const comparable = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([name]) => name !== 'date'));
    expect(comparable(unknown.headers as Record<string, string>)).toEqual(
      comparable(wrong.headers as Record<string, string>),
    );
  });

  it('counts failures in Redis, so a second instance sees them', async () => {
    const other = await startApp({
      TRUST_PROXY: '1',
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '3',
    });
    try {
      const username = uniqueName();
      await register(t.server, username);
      for (let i = 0; i < 3; i++)
        await attempt(username, 'wrong-password', freshAddress()).expect(400);
      await request(other.server)
        .post('/auth/token')
        .set('X-Forwarded-For', freshAddress())
        .type('form')
        .send({ username, password: PASSWORD })
        .expect(429);
    } finally {
      await other.close();
    }
  });
});

describe('password policy and token endpoint strictness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it.each(['password123', 'qwertyuiop', 'iloveyou1'])(
    'refuses the common password %s at registration',
    async (password) => {
      const res = await request(t.server)
        .post('/auth/register')
        .send({ username: uniqueName(), password })
        .expect(400);
      expect(JSON.stringify(res.body)).toContain('common');
    },
  );

  it('refuses a common password as a new password', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .post('/auth/password')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send({ currentPassword: PASSWORD, newPassword: 'password1' })
      .expect(400);
  });

  it.each([
    ['a repeated parameter', 'username=a&username=b&password=x'],
    ['a nested parameter', 'username[$ne]=x&password=x'],
    ['a nested password', 'username=alice&password[$gt]='],
  ])('answers %s with invalid_request', async (_, form) => {
    const res = await request(t.server)
      .post('/auth/token')
      .type('form')
      .send(form)
      .expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
  });

  it('never accepts a token from the query string or the body', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .get(`/admin/me?access_token=${user.accessToken}`)
      .expect(401);
    await request(t.server)
      .post('/auth/logout')
      .send({ access_token: user.accessToken })
      .expect(401);
  });
});

describe('headers and cookies', () => {
  // The default settings; tests that need others start an app of their own.
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('sends helmet headers with a strict CSP and no X-Powered-By', async () => {
    const res = await request(t.server).get('/auth/login').expect(200);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.text).not.toMatch(/<script|<style|style=/);
  });

  it('sends the OWASP REST header set, and no page-only headers, on JSON answers', async () => {
    const user = await registerAndLogin(t.server);
    const answers = [
      await request(t.server)
        .get('/admin/me')
        .set('Cookie', user.cookie)
        .expect(200),
      await request(t.server).get('/admin/me').expect(401),
      await request(t.server).get('/health').expect(200),
    ];
    for (const res of answers) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['etag']).toBeUndefined();
      expect(res.headers['x-dns-prefetch-control']).toBeUndefined();
      expect(res.headers['origin-agent-cluster']).toBeUndefined();
    }
  });

  it('sets a Secure cookie behind an HTTPS proxy when TRUST_PROXY is set', async () => {
    const t = await startApp({ TRUST_PROXY: '1' });
    try {
      const username = uniqueName();
      await register(t.server, username);
      const res = await request(t.server)
        .post('/auth/token')
        .set('X-Forwarded-Proto', 'https')
        .type('form')
        .send({ username, password: PASSWORD })
        .expect(200);
      const raw = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
        c.startsWith('session='),
      );
      expect(raw).toMatch(/; Secure/i);
      const plain = await request(t.server)
        .post('/auth/token')
        .type('form')
        .send({ username, password: PASSWORD });
      const rawPlain = (
        plain.headers['set-cookie'] as unknown as string[]
      ).find((c) => c.startsWith('session='));
      expect(rawPlain).not.toMatch(/; Secure/i);
    } finally {
      await t.close();
    }
  });

  it('rotates SESSION_SECRET: the first secret signs, every listed secret verifies', async () => {
    const oldSecret = 'old-secret-old-secret-old-secret-0001';
    const newSecret = 'new-secret-new-secret-new-secret-0002';
    const before = await startApp({ SESSION_SECRET: oldSecret });
    const username = uniqueName();
    let oldCookie: string;
    try {
      await register(before.server, username);
      oldCookie = (await login(before.server, username)).cookie;
    } finally {
      await before.close();
    }
    const rotated = await startApp({
      SESSION_SECRET: `${newSecret},${oldSecret}`,
    });
    let newCookie: string;
    try {
      await request(rotated.server)
        .get('/admin/me')
        .set('Cookie', oldCookie)
        .expect(200);
      newCookie = (await login(rotated.server, username)).cookie;
    } finally {
      await rotated.close();
    }
    const retired = await startApp({ SESSION_SECRET: newSecret });
    try {
      await request(retired.server)
        .get('/admin/me')
        .set('Cookie', newCookie)
        .expect(200);
      await request(retired.server)
        .get('/admin/me')
        .set('Cookie', oldCookie)
        .expect(401);
    } finally {
      await retired.close();
    }
  });

  it('keeps CORS off by default', async () => {
    const res = await request(t.server)
      .get('/health')
      .set('Origin', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('pairs credentials only with a listed origin when CORS is configured', async () => {
    const t = await startApp({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const listed = await request(t.server)
        .get('/health')
        .set('Origin', 'https://app.example.com');
      expect(listed.headers['access-control-allow-origin']).toBe(
        'https://app.example.com',
      );
      expect(listed.headers['access-control-allow-credentials']).toBe('true');
      const other = await request(t.server)
        .get('/health')
        .set('Origin', 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('keeps stack traces out of error bodies', async () => {
    const res = await request(t.server)
      .post('/auth/register')
      .set('Content-Type', 'application/json')
      .send('{"bad json');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(
      /stack|\.ts:|\.js:|node_modules/,
    );
  });
});

describe('password change guessing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ LOGIN_FREE_FAILURES_PER_ACCOUNT: '2' });
  });
  afterAll(() => t.close());

  it('throttles wrong current passwords like failed logins, so a stolen session cannot guess at leisure', async () => {
    const user = await registerAndLogin(t.server);
    const change = (currentPassword: string) =>
      request(t.server)
        .post('/auth/password')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .send({ currentPassword, newPassword: 'plum-orbit-tundra-47' });
    for (let i = 0; i < 2; i++) {
      const res = await change('not the password').expect(400);
      expect(res.body).toMatchObject({ error: 'wrong_password' });
    }
    const throttled = await change(PASSWORD).expect(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Logging in to that account is throttled too: it is one bucket.
    await request(t.server)
      .post('/auth/token')
      .type('form')
      .send({ username: user.username, password: PASSWORD })
      .expect(429);
  });

  it('does not count a refused new password as a guess', async () => {
    const user = await registerAndLogin(t.server);
    for (let i = 0; i < 3; i++) {
      await request(t.server)
        .post('/auth/password')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .send({ currentPassword: PASSWORD, newPassword: 'password1' })
        .expect(400);
    }
    await request(t.server)
      .post('/auth/password')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send({ currentPassword: PASSWORD, newPassword: 'plum-orbit-tundra-47' })
      .expect(200);
  });
});
