import request from 'supertest';
import { clearsCookie, sessionCookie, setCookies } from '../helpers/cookies.js';
import {
  PASSWORD,
  register,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('login page and browser form posts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it.each(['/', '/auth/login'])(
    'serves %s as an HTML login form with username and password inputs',
    async (path) => {
      const res = await request(t.server)
        .get(path)
        .set('Accept', HTML)
        .expect(200)
        .expect('Content-Type', /text\/html/);
      expect(res.text).toMatch(
        /<form[^>]+method="post"[^>]+action="\/auth\/token"/,
      );
      expect(res.text).toMatch(/<input[^>]+name="username"/);
      expect(res.text).toMatch(
        /<input[^>]+name="password"[^>]*type="password"/,
      );
      expect(res.text).not.toContain('Logged in as');
      expect(setCookies(res)).toEqual([]);
    },
  );

  it.each(['/', '/auth/login'])(
    'says "Logged in as NAME" on %s for a logged-in session',
    async (path) => {
      const user = await registerAndLogin(t.server);
      const res = await request(t.server)
        .get(path)
        .set('Cookie', user.cookie)
        .expect(200);
      expect(res.text).toContain(`Logged in as ${user.username}`);
      expect(res.text).toMatch(/<form[^>]+action="\/auth\/logout"/);
      expect(res.text).not.toMatch(/name="password"/);
    },
  );

  it('registers through a browser form post: 303 back to the page, which confirms the account', async () => {
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .set('Accept', HTML)
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(303);
    expect(res.headers.location).toBe(`/auth/login?registered=${username}`);
    expect(setCookies(res)).toEqual([]);
    const page = await request(t.server).get(res.headers.location).expect(200);
    expect(page.text).toContain(`Account ${username} created`);
  });

  it('logs in through a browser form post: 303 to the page with a session cookie, page says who is logged in', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Accept', HTML)
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(303);
    expect(res.headers.location).toBe('/auth/login');
    expect(res.text).not.toContain('access_token');
    const cookie = sessionCookie(res, t.config.sessionCookieName);
    expect(cookie).toBeDefined();
    const page = await request(t.server)
      .get(res.headers.location)
      .set('Cookie', cookie!)
      .expect(200);
    expect(page.text).toContain(`Logged in as ${username}`);
  });

  it('shows the error on the page after a wrong password and sets no cookie', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Accept', HTML)
      .type('form')
      .send({ username, password: 'not the password' })
      .expect(303);
    expect(setCookies(res)).toEqual([]);
    expect(res.headers.location).toMatch(
      /^\/auth\/login\?error=invalid_grant$/,
    );
    const page = await request(t.server).get(res.headers.location).expect(200);
    expect(page.text).toContain('Wrong username or password.');
    expect(page.text).not.toContain('Logged in as');
    expect(setCookies(page)).toEqual([]);
  });

  it('shows the validation error on the page after a bad registration form', async () => {
    const res = await request(t.server)
      .post('/auth/register')
      .set('Accept', HTML)
      .type('form')
      .send({ username: 'x', password: 'short' })
      .expect(303);
    expect(res.headers.location).toBe('/auth/login?error=validation_failed');
    const page = await request(t.server).get(res.headers.location).expect(200);
    expect(page.text).toContain('Usernames are 3-64 letters');
  });

  it('shows the taken-username error on the page', async () => {
    const { username } = await register(t.server);
    const res = await request(t.server)
      .post('/auth/register')
      .set('Accept', HTML)
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(303);
    const page = await request(t.server).get(res.headers.location).expect(200);
    expect(page.text).toContain('That username is taken.');
  });

  it('sends an already logged-in browser back to the page without a new cookie', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .post('/auth/token')
      .set('Accept', HTML)
      .set('Cookie', user.cookie)
      .type('form')
      .send({ username: user.username, password: PASSWORD })
      .expect(303);
    expect(res.headers.location).toBe('/auth/login');
    expect(sessionCookie(res, t.config.sessionCookieName)).toBeUndefined();
  });

  it('logs out through the page form: 303 to the page, cookie cleared, page offers the login form again', async () => {
    const user = await registerAndLogin(t.server);
    const res = await request(t.server)
      .post('/auth/logout')
      .set('Accept', HTML)
      .set('Cookie', user.cookie)
      .expect(303);
    expect(res.headers.location).toBe('/auth/login');
    expect(clearsCookie(res, t.config.sessionCookieName)).toBe(true);
    const page = await request(t.server)
      .get('/auth/login')
      .set('Cookie', user.cookie)
      .expect(200);
    expect(page.text).not.toContain('Logged in as');
    expect(page.text).toMatch(/name="password"/);
  });

  it('escapes what the query string puts on the page', async () => {
    const res = await request(t.server)
      .get('/auth/login?registered=%3Cscript%3Ealert(1)%3C%2Fscript%3E')
      .expect(200);
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('&#60;script&#62;');
  });

  it('serves the stylesheet publicly', async () => {
    await request(t.server)
      .get('/assets/login.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
  });
});
