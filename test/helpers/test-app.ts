import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Redis } from 'ioredis';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.setup.js';
import { AppConfig, loadConfig } from '../../src/infra/config/app-config.js';
import { REDIS } from '../../src/infra/redis/redis.constants.js';
import { TEST_SESSION_SECRET } from './cookies.js';

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
      const started = await inTurn(() =>
        boot({ createApp, loadConfig, REDIS }, fullEnv, options),
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
  return inTurn(async () => {
    let started: TestApp | undefined;
    await jest.isolateModulesAsync(async () => {
      // One after the other: jest's ESM loader can lose a shared dependency (reflect-metadata)
      // that two imports of one isolated registry load at once.
      const setup = await import('../../src/app.setup.js');
      const configModule = await import('../../src/infra/config/app-config.js');
      const constants =
        await import('../../src/infra/redis/redis.constants.js');
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
  });
}

let boots: Promise<unknown> = Promise.resolve();

/**
 * Apps started at once boot one after the other: an isolation block cannot overlap another,
 * and Nest loads its HTTP adapter lazily, which must not happen inside another app's block.
 */
function inTurn<T>(start: () => Promise<T>): Promise<T> {
  const turn = boots.then(start);
  boots = turn.catch(() => undefined);
  return turn;
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

/** What `instanceOf` reads of Nest's container (not public API, hence the narrow shape). */
interface ProviderContainer {
  container: {
    getModules(): Map<
      string,
      { providers: Map<unknown, { instance: unknown }> }
    >;
  };
}

/**
 * The app's own instance of the provider class `cls`, to spy on. An app with its own copy of
 * the modules (every app but the first one open) has its own class of that name, which
 * `app.get(cls)` does not know; it is found by name in the app's modules.
 */
export function instanceOf<T>(
  t: TestApp,
  cls: abstract new (...args: never[]) => T,
): T {
  const modules = (
    t.app as unknown as ProviderContainer
  ).container.getModules();
  for (const module of modules.values())
    for (const [token, wrapper] of module.providers)
      if (typeof token === 'function' && token.name === cls.name)
        return wrapper.instance as T;
  throw new Error(`the app has no provider ${cls.name}`);
}
