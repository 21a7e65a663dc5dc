import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import request from 'supertest';
import { IS_PUBLIC } from '../../src/auth/decorators.js';
import { call, setCookies } from '../helpers/e2e.js';
import { startApp, TestApp } from '../helpers/test-app.js';

interface NestRoute {
  method: string;
  path: string;
  handler: string;
  isPublic: boolean;
}

interface ExpressRoute {
  method: string;
  path: string;
  handler: string;
}

/** Every route that is reviewed to be reachable without credentials. Anything else must answer 401. */
const REVIEWED_PUBLIC = [
  'GET /',
  'GET /.well-known/oauth-authorization-server',
  'GET /auth/login',
  'GET /assets/login.css',
  'GET /health',
  'POST /auth/introspect',
  'POST /auth/register',
  'POST /auth/revoke',
  'POST /auth/token',
];

/**
 * Public to the guard because its callers authenticate in a way the guard does not know (HTTP
 * Basic for resource servers), so it answers anonymous callers 401 itself.
 */
const SELF_AUTHENTICATING = ['POST /auth/introspect'];

/** Routes the express app serves that are not Nest handlers: the Swagger UI and documents. */
const DOCS_PATH = /^\/docs(-json|-yaml|\/.*)?$/;

function joinPath(...parts: string[]): string {
  const joined = parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/');
  return `/${joined}`;
}

/** Routes from the controllers' metadata, each with its @Public() state as the guard reads it. */
function nestRoutes(t: TestApp): NestRoute[] {
  const reflector = t.app.get(Reflector);
  const routes: NestRoute[] = [];
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as
        (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const prefixes = [
        Reflect.getMetadata(PATH_METADATA, controller) ?? '/',
      ].flat() as string[];
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as
          RequestMethod | undefined;
        if (method === undefined) continue;
        const paths = [
          Reflect.getMetadata(PATH_METADATA, handler) ?? '/',
        ].flat() as string[];
        const isPublic =
          reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
            handler,
            controller,
          ]) === true;
        for (const prefix of prefixes) {
          for (const path of paths) {
            routes.push({
              method: RequestMethod[method],
              path: joinPath(prefix, path),
              handler: `${controller.name}.${name}`,
              isPublic,
            });
          }
        }
      }
    }
  }
  return routes;
}

/** What the HTTP server actually routes: the express router's route layers. */
function expressRoutes(t: TestApp): ExpressRoute[] {
  const express = t.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  interface Layer {
    route?: {
      path: string;
      methods: Record<string, boolean>;
      stack: { name: string }[];
    };
  }
  const stack = (express.router ?? express._router)!.stack;
  const routes: ExpressRoute[] = [];
  for (const layer of stack) {
    const route = layer.route;
    if (!route || typeof route.path !== 'string') continue;
    // Nest's not-found fallback matches every method on every path; it is no route of the API.
    if (route.path.includes('*')) continue;
    for (const method of Object.keys(route.methods)) {
      routes.push({
        method: method.toUpperCase(),
        path: route.path,
        handler: route.stack.map((s) => s.name).join(','),
      });
    }
  }
  return routes;
}

/** A concrete URL for a route pattern: every :param becomes a syntactically valid value. */
function concrete(path: string): string {
  return path.replace(/:[A-Za-z]+/g, '3f1b8a52-6c1d-4e2f-9a7b-0c4d5e6f7a8b');
}

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
