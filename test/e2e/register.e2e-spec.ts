import request from 'supertest';
import { DatabaseInspector } from '../helpers/database.js';
import { setCookies } from '../helpers/cookies.js';
import { login, PASSWORD, uniqueName } from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';

describe('POST /auth/register', () => {
  let t: TestApp;
  let db: DatabaseInspector;
  beforeAll(async () => {
    t = await startApp();
    db = new DatabaseInspector();
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });

  async function nameIsFree(username: string): Promise<boolean> {
    return (await db.userByName(username)) === null;
  }

  it('creates an account from JSON and answers 201 with exactly id, username and createdAt', async () => {
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201)
      .expect('Content-Type', /application\/json/);
    expect(Object.keys(res.body).sort()).toEqual([
      'createdAt',
      'id',
      'username',
    ]);
    expect(res.body.username).toBe(username);
    expect(res.body.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect((await db.userByName(username))?.id).toBe(res.body.id);
  });

  it('creates an account from a urlencoded form', async () => {
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .type('form')
      .send({ username, password: PASSWORD })
      .expect(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'createdAt',
      'id',
      'username',
    ]);
    expect(res.body.username).toBe(username);
  });

  it('lets the new account log in', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    const session = await login(t.server, username);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${session.accessToken}`)
      .expect(200);
    expect(me.body.roles).toEqual(['user']);
  });

  it('sets no cookie: registering does not log in', async () => {
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: PASSWORD })
      .expect(201);
    expect(setCookies(res)).toEqual([]);
  });

  it('answers 409 when the username is taken', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: 'another password entirely' })
      .expect(409);
    expect(res.body.error).toBe('username_taken');
  });

  it('answers 409 when the username is taken in another letter case', async () => {
    const username = uniqueName('Mixed');
    await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(201);
    await request(t.server)
      .post('/auth/register')
      .send({ username: username.toLowerCase(), password: PASSWORD })
      .expect(409);
    await request(t.server)
      .post('/auth/register')
      .send({ username: username.toUpperCase(), password: PASSWORD })
      .expect(409);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', `u${'x'.repeat(64)}`],
    ['with a space', 'has space'],
    ['with a slash', 'a/b/c'],
    ['with a colon', 'user:name'],
    ['with a glob star', 'user*x'],
    ['empty', ''],
  ])('answers 400 for a username %s', async (_, username) => {
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD })
      .expect(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.details).toEqual(
      expect.arrayContaining([expect.stringContaining('username')]),
    );
  });

  it.each([
    ['too short', 'seven77'],
    ['too long', 'p'.repeat(129)],
    ['missing', undefined],
  ])(
    'answers 400 for a password %s and stores nothing',
    async (_, password) => {
      const username = uniqueName();
      const res = await request(t.server)
        .post('/auth/register')
        .send({ username, password })
        .expect(400);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.details).toEqual(
        expect.arrayContaining([expect.stringContaining('password')]),
      );
      expect(await nameIsFree(username)).toBe(true);
    },
  );

  it('accepts passwords at the 8 and 128 character limits', async () => {
    await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: '8 chars!' })
      .expect(201);
    await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: 'p'.repeat(128) })
      .expect(201);
  });

  it('answers 400 for an unknown field and stores nothing', async () => {
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD, nickname: 'x' })
      .expect(400);
    expect(res.body.error).toBe('validation_failed');
    expect(JSON.stringify(res.body.details)).toContain('nickname');
    expect(await nameIsFree(username)).toBe(true);
  });

  it('refuses a roles field, so nobody can register as admin', async () => {
    const username = uniqueName();
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username, password: PASSWORD, roles: ['admin'] })
      .expect(400);
    expect(JSON.stringify(res.body.details)).toContain('roles');
    expect(await nameIsFree(username)).toBe(true);
  });

  it('refuses a roles field sent in a form too', async () => {
    const username = uniqueName();
    await request(t.server)
      .post('/auth/register')
      .type('form')
      .send(
        `username=${username}&password=${encodeURIComponent(PASSWORD)}&roles=admin`,
      )
      .expect(400);
    expect(await nameIsFree(username)).toBe(true);
  });

  it('never returns the password or its hash', async () => {
    const res = await request(t.server)
      .post('/auth/register')
      .send({ username: uniqueName(), password: PASSWORD })
      .expect(201);
    expect(res.text).not.toContain(PASSWORD);
    expect(res.text).not.toContain('scrypt');
    expect(res.text).not.toMatch(/password/i);
  });
});
