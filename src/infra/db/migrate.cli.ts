import { loadConfig } from '../config/app-config.js';
import { migratePostgres } from './postgres.driver.js';
import { openPglite } from './pglite.driver.js';

/**
 * `npm run db:migrate` (or `node dist/infra/db/migrate.cli.js` in the image): applies the pending
 * migrations once, for deployments that run with DATABASE_MIGRATE=off.
 */
async function main(): Promise<void> {
  const { database } = loadConfig();
  if (database.kind === 'postgres') {
    await migratePostgres(database.url);
  } else {
    const quiet = { logQuery: () => undefined };
    const driver = await openPglite(database.dir, {
      requests: quiet,
      background: quiet,
    });
    try {
      await driver.migrate();
    } finally {
      await driver.close();
    }
  }
  console.log(`Migrations applied (${database.kind})`);
}

main().catch((err: unknown) => {
  console.error(`Migration failed: ${(err as Error).message}`);
  process.exit(1);
});
