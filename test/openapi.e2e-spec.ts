import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { buildOpenApi } from '../src/app.setup.js';
import { SCOPES } from '../src/credentials/scopes.js';
import { startApp, TestApp } from './helpers/test-app.js';

const COMMITTED = new URL('../openapi.json', import.meta.url);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
/** A protected operation: a session, or a bearer token with at most one scope. */
const bothSchemes = (scopes: string[]) => [{ oauth2: scopes }, { session: [] }];

interface Operation {
  method: string;
  path: string;
  summary?: string;
  security?: Record<string, string[]>[];
}

function operations(doc: OpenAPIObject): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => m in item).map((method) => ({
      method,
      path,
      ...(item as Record<string, Omit<Operation, 'method' | 'path'>>)[method],
    })),
  );
}

/** JSON pointers where two documents differ, for the failure message. */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return [at || '/'];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    differences(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`,
    ),
  );
}

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenAPIObject;

  beforeAll(async () => {
    t = await startApp({ REDIS_URL: '' });
    // Round-trip through JSON, as `npm run openapi` writes it.
    doc = JSON.parse(
      JSON.stringify(buildOpenApi(t.app, t.config)),
    ) as OpenAPIObject;
  });
  afterAll(() => t.close());

  it('matches the committed openapi.json', () => {
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    } catch (err) {
      throw new Error(
        `openapi.json is missing or unreadable. Run \`npm run openapi\` and commit openapi.json.`,
        { cause: err },
      );
    }
    const changed = differences(committed, doc);
    if (changed.length > 0) {
      throw new Error(
        'openapi.json is out of date with the code. Run `npm run openapi` and commit openapi.json.\n' +
          `Differences at:\n  ${changed.slice(0, 20).join('\n  ')}`,
      );
    }
  });

  it('gives every operation a summary', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(0);
    const missing = ops
      .filter((op) => !op.summary?.trim())
      .map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(missing).toEqual([]);
  });

  it('declares the oauth2 and session schemes the Swagger UI logs in with', () => {
    expect(doc.components?.securitySchemes).toEqual({
      oauth2: {
        type: 'oauth2',
        flows: {
          password: {
            tokenUrl: '/auth/token',
            refreshUrl: '/auth/token',
            scopes: SCOPES,
          },
        },
      },
      session: { type: 'apiKey', in: 'cookie', name: 'session' },
      introspection: {
        type: 'http',
        scheme: 'basic',
        description: 'Resource servers listed in INTROSPECTION_CLIENTS',
      },
    });
  });

  it('declares oauth2 or session security on exactly the operations that refuse an anonymous caller', async () => {
    const ops = operations(doc);
    const verdicts = await Promise.all(
      ops.map(async (op) => {
        const url = op.path.replace(
          /\{[^}]+\}/g,
          '00000000-0000-4000-8000-000000000000',
        );
        const agent = request(t.server);
        const res = await agent[op.method as 'get'](url).set(
          'Accept',
          'application/json',
        );
        return {
          operation: `${op.method.toUpperCase()} ${op.path}`,
          refusesAnonymous: res.status === 401,
          security: op.security ?? [],
          scopes: (op.security ?? []).find((s) => 'oauth2' in s)?.oauth2 ?? [],
        };
      }),
    );
    const isProtected = verdicts.filter((v) => v.refusesAnonymous);
    // Sanity: the API has protected operations and public ones (login, register, health).
    expect(isProtected.length).toBeGreaterThan(0);
    expect(isProtected.length).toBeLessThan(verdicts.length);
    for (const v of verdicts) {
      expect({
        operation: v.operation,
        security: v.security,
      }).toEqual({
        operation: v.operation,
        security: !v.refusesAnonymous
          ? []
          : v.operation === 'POST /auth/introspect'
            ? [{ introspection: [] }, { session: [] }, { oauth2: ['admin'] }]
            : bothSchemes(v.scopes),
      });
      expect(v.scopes.length).toBeLessThanOrEqual(1);
      for (const scope of v.scopes)
        expect(Object.keys(SCOPES)).toContain(scope);
    }
  });
});
