import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { Server } from 'node:http';
import request from 'supertest';
import { authOptionsOf } from '../../src/auth/authenticated.decorator.js';
import type { TestApp } from './test-app.js';

/** A request by method name, for tables of routes. */
export function call(
  server: Server,
  method: string,
  path: string,
): request.Test {
  const agent = request(server);
  switch (method.toUpperCase()) {
    case 'GET':
      return agent.get(path);
    case 'POST':
      return agent.post(path);
    case 'PUT':
      return agent.put(path);
    case 'PATCH':
      return agent.patch(path);
    case 'DELETE':
      return agent.delete(path);
    case 'HEAD':
      return agent.head(path);
    default:
      throw new Error(`no request helper for method ${method}`);
  }
}

/** A route of a controller, as its metadata declares it. */
export interface NestRoute {
  method: string;
  path: string;
  handler: string;
  isPublic: boolean;
}

/** A route as the express router holds it. */
export interface ExpressRoute {
  method: string;
  path: string;
  handler: string;
}

/** Routes the express app serves that are not Nest handlers: the Swagger UI and documents. */
export const DOCS_PATH = /^\/docs(-json|-yaml|\/.*)?$/;

function joinPath(...parts: string[]): string {
  const joined = parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/');
  return `/${joined}`;
}

/** Routes from the controllers' metadata, each with its @Public() state as the guard reads it. */
export function nestRoutes(t: TestApp): NestRoute[] {
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
          authOptionsOf(reflector, [handler, controller]).public === true;
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
export function expressRoutes(t: TestApp): ExpressRoute[] {
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
export function concrete(path: string): string {
  return path.replace(/:[A-Za-z]+/g, '3f1b8a52-6c1d-4e2f-9a7b-0c4d5e6f7a8b');
}
