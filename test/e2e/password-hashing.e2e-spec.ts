import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  scrypt,
  SCRYPT_KEY_LENGTH,
  SCRYPT_OPTIONS,
} from '../../src/users/scrypt.js';
import { UserRepository } from '../../src/users/user.repository.js';
import { DatabaseInspector } from '../helpers/database.js';
import { login, PASSWORD, register, uniqueName } from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';

/** A hash as the service stored them before argon2id. */
async function scryptHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS);
  return `scrypt$17$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

describe('password hashes: argon2id, and the rehash of older ones at login', () => {
  let a: TestApp;
  let b: TestApp;
  let stronger: TestApp;
  const db = new DatabaseInspector();

  // Every login here comes from one address; its bucket is not what these tests are about.
  const env = { LOGIN_FREE_FAILURES_PER_ADDRESS: '1000' };

  beforeAll(async () => {
    a = await startApp(env);
    b = await startApp(env);
    stronger = await startApp({
      ...env,
      PASSWORD_HASH_MEMORY_KIB: '24576',
      PASSWORD_HASH_ITERATIONS: '3',
    });
  });
  afterAll(async () => {
    await db.close();
    await a.close();
    await b.close();
    await stronger.close();
  });

  const hashOf = async (id: string) => (await db.userById(id))!.password_hash;
  const rehashedFrom = (id: string, old: string) =>
    eventually(async () => {
      const now = await hashOf(id);
      return now !== old ? now : undefined;
    }, 'the rehash');

  async function legacyUser() {
    const user = await register(a.server, uniqueName('legacy'));
    const legacy = await scryptHash(PASSWORD);
    await db.query('update users set password_hash = $1 where id = $2', [
      legacy,
      user.id,
    ]);
    const before = (await db.userById(user.id))!;
    return { ...user, legacy, before };
  }

  it('logs in with a scrypt hash and rehashes it to argon2id, keeping the password change time', async () => {
    const user = await legacyUser();
    await login(a.server, user.username);
    const now = await rehashedFrom(user.id, user.legacy);
    expect(now).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const after = (await db.userById(user.id))!;
    expect(after.password_changed_at).toEqual(user.before.password_changed_at);
    // The new hash holds the same password, on another instance too.
    await login(b.server, user.username);
    await request(b.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: 'not the password at all',
      })
      .expect(400);
  });

  it('keeps a scrypt hash after a wrong password', async () => {
    const user = await legacyUser();
    await request(a.server)
      .post('/auth/token')
      .type('form')
      .send({
        grant_type: 'password',
        username: user.username,
        password: 'not the password at all',
      })
      .expect(400);
    // A right login afterwards is the event that rehashes; until then the scrypt hash stays.
    expect(await hashOf(user.id)).toBe(user.legacy);
  });

  it('rehashes once under parallel logins of one scrypt account over two instances', async () => {
    const user = await legacyUser();
    await Promise.all(
      // Fewer than the account's free attempts: logins in flight hold one each.
      Array.from({ length: 4 }, (_, i) =>
        login(i % 2 ? a.server : b.server, user.username),
      ),
    );
    const now = await rehashedFrom(user.id, user.legacy);
    expect(now).toMatch(/^\$argon2id\$/);
    await login(a.server, user.username);
  });

  it('rehashes an argon2id hash weaker than the configured cost at the next login', async () => {
    const user = await register(a.server, uniqueName('weaker'));
    const weak = await hashOf(user.id);
    expect(weak).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await login(stronger.server, user.username);
    const now = await rehashedFrom(user.id, weak);
    expect(now).toMatch(/^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
    // The stronger hash is kept by an instance configured at the floor.
    await login(a.server, user.username);
    await login(a.server, user.username);
    expect(await hashOf(user.id)).toBe(now);
  });

  it('does not let a late rehash undo a password change made meanwhile', async () => {
    const user = await legacyUser();
    const session = await login(a.server, user.username);
    const beforeChange = await rehashedFrom(user.id, user.legacy);
    const newPassword = 'a brand new passphrase 2026';
    await request(a.server)
      .post('/auth/password')
      .set('Authorization', `Bearer ${session.accessToken}`)
      .send({ currentPassword: PASSWORD, newPassword })
      .expect(200);
    const changed = await hashOf(user.id);
    // A rehash computed from the hash before the change arrives after it: it must not land.
    await a.app
      .get(UserRepository)
      .rehash(user.id, beforeChange, await scryptHash(PASSWORD));
    expect(await hashOf(user.id)).toBe(changed);
    await login(b.server, user.username, newPassword);
  });
});
