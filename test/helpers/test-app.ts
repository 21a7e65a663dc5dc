import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Redis } from 'ioredis';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.setup.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { REDIS } from '../../src/redis/redis.constants.js';
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

/**
 * Boots the real AppModule through the production bootstrap (`createApp`), with the test
 * environment plus `env` overrides. Pass `REDIS_URL: ''` for the embedded store.
 */
export async function startApp(
  env: Record<string, string> = {},
  options: { listen?: boolean } = {},
): Promise<TestApp> {
  const config = loadConfig({
    ...process.env,
    SESSION_SECRET: TEST_SESSION_SECRET,
    ...env,
  });
  const app = await createApp(config);
  if (options.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  const server = app.getHttpServer();
  const address = server.address() as AddressInfo | null;
  return {
    app,
    server,
    url: address ? `http://127.0.0.1:${address.port}` : '',
    config,
    redis: app.get<Redis>(REDIS),
    close: () => app.close(),
  };
}
