import request from 'supertest';
import { setCookies } from '../helpers/cookies.js';
import {
  call,
  concrete,
  DOCS_PATH,
  expressRoutes,
  nestRoutes,
  type NestRoute,
} from '../helpers/routes.js';
import { startApp, TestApp } from '../helpers/test-app.js';

/** Every route that is reviewed to be reachable without credentials. Anything else must answer 401. */
const REVIEWED_PUBLIC = [
  'GET /',
  'GET /.well-known/oauth-authorization-server',
  'GET /auth/login',
  // The mailed links' pages and their buttons' posts: the token in the body is the credential.
  'GET /auth/email/undo',
  'GET /auth/email/verify',
  'POST /auth/email/undo',
  'POST /auth/email/verify',
  'GET /auth/password/forgot',
  'GET /auth/password/reset',
  'GET /assets/account.css',
  'GET /assets/login.css',
  'GET /health',
  'POST /auth/introspect',
  'POST /auth/password/forgot',
  'POST /auth/password/reset',
  'POST /auth/register',
  'POST /auth/revoke',
  'POST /auth/token',
];

/**
 * Public to the guard because its callers authenticate in a way the guard does not know (HTTP
 * Basic for resource servers), so it answers anonymous callers 401 itself.
 */
const SELF_AUTHENTICATING = ['POST /auth/introspect'];

describe('every registered route is either @Public() or protected', () => {
  let t: TestApp;
  let routes: NestRoute[];
  beforeAll(async () => {
    t = await startApp();
    routes = nestRoutes(t);
  });
  afterAll(() => t.close());

  it("finds the controllers' routes", () => {
    // A sanity floor, so a broken discovery cannot pass by finding nothing.
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect(routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          method: 'GET',
          path: '/admin/me',
          isPublic: false,
        }),
        expect.objectContaining({
          method: 'POST',
          path: '/auth/token',
          isPublic: true,
        }),
      ]),
    );
  });

  it('discovers exactly the routes the HTTP server serves, besides the API docs', () => {
    const served = expressRoutes(t)
      .filter((r) => !DOCS_PATH.test(r.path))
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const discovered = routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(served).toEqual(discovered);
  });

  it('serves nothing outside the controllers but the API docs', () => {
    const nestHandlers = new Set(routes.map((r) => r.handler));
    const others = expressRoutes(t).filter(
      (r) => !r.handler.split(',').some((h) => nestHandlers.has(h)),
    );
    for (const route of others) expect(route.path).toMatch(DOCS_PATH);
    expect(others.every((r) => r.method === 'GET')).toBe(true);
  });

  it('makes public only the reviewed routes', () => {
    const publicRoutes = routes
      .filter((r) => r.isPublic)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(publicRoutes).toEqual([...REVIEWED_PUBLIC].sort());
  });

  it('answers every non-public route with 401 and a Bearer challenge when called without credentials', async () => {
    const protectedRoutes = routes.filter((r) => !r.isPublic);
    expect(protectedRoutes.length).toBeGreaterThan(0);
    const outcomes: string[] = [];
    for (const route of protectedRoutes) {
      const res = await call(t.server, route.method, concrete(route.path)).send(
        route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
      );
      outcomes.push(
        `${route.method} ${route.path} -> ${res.status} ${res.headers['www-authenticate'] ?? '(no challenge)'}${setCookies(res).length ? ' +cookie' : ''}`,
      );
    }
    expect(outcomes).toEqual(
      protectedRoutes.map(
        (r) => `${r.method} ${r.path} -> 401 Bearer realm="auth"`,
      ),
    );
  });

  it('answers every public route without credentials with neither 401 nor 5xx', async () => {
    const refused: string[] = [];
    for (const route of routes.filter((r) => r.isPublic)) {
      if (SELF_AUTHENTICATING.includes(`${route.method} ${route.path}`))
        continue;
      const res = await call(t.server, route.method, concrete(route.path)).send(
        route.method === 'GET' ? undefined : {},
      );
      if (res.status === 401 || res.status >= 500)
        refused.push(`${route.method} ${route.path} -> ${res.status}`);
    }
    expect(refused).toEqual([]);
  });

  it('answers the self-authenticating public routes without credentials with 401 themselves', async () => {
    for (const name of SELF_AUTHENTICATING) {
      const [method, path] = name.split(' ');
      const res = await call(t.server, method, path).send({ token: 'x' });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
  });

  it('serves the API docs without credentials', async () => {
    await request(t.server).get('/docs-json').expect(200);
    await request(t.server).get('/docs-yaml').expect(200);
  });
});
