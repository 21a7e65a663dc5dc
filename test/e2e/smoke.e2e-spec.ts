import request from 'supertest';
import { registerAndLogin, startApp, TestApp } from '../helpers/test-app.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('serves /admin/me to a session and to a bearer token', async () => {
    const user = await registerAndLogin(t.server);
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', user.cookie)
      .expect(200);
    await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .expect(200);
  });
});
