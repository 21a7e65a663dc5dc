/**
 * Writes openapi.json at the repository root from the decorators in the code:
 * `npm run openapi`. Boots the app on the embedded stores (no Redis, an in-memory PGlite) with a fixed
 * configuration, so the document does not depend on the caller's environment.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApi, createApp } from '../src/app.setup.js';
import { loadConfig } from '../src/infra/config/app-config.js';

async function main(): Promise<void> {
  const config = loadConfig({
    REDIS_URL: '',
    DATABASE_URL: '',
    DATABASE_DIR: 'memory://',
    LOG_LEVEL: 'silent',
  });
  const app = await createApp(config);
  try {
    await app.init();
    const document = buildOpenApi(app, config);
    const target = resolve(process.cwd(), 'openapi.json');
    writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
    process.stdout.write(`Wrote ${target}\n`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `openapi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
