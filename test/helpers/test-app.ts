import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../src/app.setup.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { REDIS } from '../../src/redis/redis.constants.js';

/** Shared by every instance a test starts, so instances can read each other's cookies. */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789-abcdefghij';
export const PASSWORD = 'correct horse battery staple';

export interface TestApp {
  app: NestExpressApplication;
  server: Server;
  /** Base URL when started with `listen: true`. */
  url: string;
  config: AppConfig;
  /** The app's own Redis client (real Redis unless the embedded store is in use). */
  redis: Redis;
  close(): Promise<void>;
}

/** Whether an open app uses this test file's own copy of the modules. */
let ownModulesInUse = false;

/**
 * Boots the real AppModule through the production bootstrap (`createApp`), with the test
 * environment plus `env` overrides. Pass `REDIS_URL: ''` for the embedded store.
 *
 * A process runs one app in production, and process-wide state (passport's strategies, for
 * one) belongs to it. A test that runs several apps at once gets each further one its own
 * copy of every module, as a process of its own would have.
 */
export async function startApp(
  env: Record<string, string> = {},
  options: { listen?: boolean } = {},
): Promise<TestApp> {
  const fullEnv = {
    ...process.env,
    SESSION_SECRET: TEST_SESSION_SECRET,
    ...env,
  };
  if (!ownModulesInUse) {
    ownModulesInUse = true;
    try {
      const started = await boot(
        { createApp, loadConfig, REDIS },
        fullEnv,
        options,
      );
      return {
        ...started,
        close: () => started.close().finally(() => (ownModulesInUse = false)),
      };
    } catch (err) {
      ownModulesInUse = false;
      throw err;
    }
  }
  let started: TestApp | undefined;
  await jest.isolateModulesAsync(async () => {
    const [setup, configModule, constants] = await Promise.all([
      import('../../src/app.setup.js'),
      import('../../src/config/app-config.js'),
      import('../../src/redis/redis.constants.js'),
    ]);
    started = await boot(
      {
        createApp: setup.createApp,
        loadConfig: configModule.loadConfig,
        REDIS: constants.REDIS,
      },
      fullEnv,
      options,
    );
  });
  return started!;
}

async function boot(
  modules: {
    createApp: typeof createApp;
    loadConfig: typeof loadConfig;
    REDIS: typeof REDIS;
  },
  env: Record<string, string | undefined>,
  options: { listen?: boolean },
): Promise<TestApp> {
  const config = modules.loadConfig(env);
  const app = await modules.createApp(config);
  if (options.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  const server = app.getHttpServer();
  const address = server.address() as AddressInfo | null;
  return {
    app,
    server,
    url: address ? `http://127.0.0.1:${address.port}` : '',
    config,
    redis: app.get<Redis>(modules.REDIS),
    close: () => app.close(),
  };
}

/** A separate client on the test database (or `url`), for inspecting what the app wrote. */
export function inspectRedis(url = process.env.REDIS_URL!): Redis {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
  });
}

export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export interface LoggedIn {
  username: string;
  password: string;
  userId: string;
  accessToken: string;
  /** `name=value` of the session cookie, ready for a Cookie header. */
  cookie: string;
}

export async function register(
  server: Server,
  username = uniqueName(),
  password = PASSWORD,
): Promise<{ id: string; username: string }> {
  const res = await request(server)
    .post('/auth/register')
    .send({ username, password })
    .expect(201);
  return res.body as { id: string; username: string };
}

export function sessionCookie(
  res: request.Response,
  name = 'session',
): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = raw?.find((c) => c.startsWith(`${name}=`));
  return cookie?.split(';')[0];
}

export async function login(
  server: Server,
  username: string,
  password = PASSWORD,
  userAgent = 'jest',
): Promise<Omit<LoggedIn, 'userId'>> {
  const res = await request(server)
    .post('/auth/token')
    .set('User-Agent', userAgent)
    .type('form')
    .send({ grant_type: 'password', username, password })
    .expect(200);
  const cookie = sessionCookie(res);
  if (!cookie) throw new Error('login set no session cookie');
  return {
    username,
    password,
    accessToken: (res.body as { access_token: string }).access_token,
    cookie,
  };
}

export interface FurtherToken {
  message: string;
  access_token: string;
  token_type: string;
  expires_in: number;
}

/**
 * A further token for a logged-in session: POST /auth/token with its cookie, which answers
 * "Already logged in" and a new token of the same login (the password is not checked then).
 */
export async function furtherToken(
  server: Server,
  user: Pick<LoggedIn, 'cookie' | 'username'>,
): Promise<FurtherToken> {
  const res = await request(server)
    .post('/auth/token')
    .set('Cookie', user.cookie)
    .type('form')
    .send({
      grant_type: 'password',
      username: user.username,
      password: PASSWORD,
    })
    .expect(200);
  const body = res.body as FurtherToken;
  if (body.message !== 'Already logged in')
    throw new Error(`the session was not logged in: ${JSON.stringify(body)}`);
  return body;
}

export async function registerAndLogin(
  server: Server,
  username = uniqueName(),
  password = PASSWORD,
): Promise<LoggedIn> {
  const user = await register(server, username, password);
  return { ...(await login(server, username, password)), userId: user.id };
}
