import { mkdir } from 'node:fs/promises';
import type { DatabaseDriver, QueryLoggers } from './database.js';
import { MIGRATIONS_FOLDER } from './migrations.js';
import { schema } from './schema.js';

/**
 * The embedded PGlite (PostgreSQL compiled to WebAssembly), persisted under `dir`. One
 * process only: two processes opening one directory would corrupt it. Loaded only when used,
 * so a PostgreSQL deployment never loads its WebAssembly.
 */
export async function openPglite(
  dir: string,
  loggers: QueryLoggers,
): Promise<DatabaseDriver> {
  const [{ PGlite }, { drizzle }, { migrate }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const client = await PGlite.create(dir);
  return {
    kind: 'pglite',
    db: drizzle({ client, schema, logger: loggers.requests }),
    backgroundDb: drizzle({ client, schema, logger: loggers.background }),
    // One process holds the directory, so there is nobody to serialise with.
    migrate: () =>
      migrate(drizzle({ client, schema }), {
        migrationsFolder: MIGRATIONS_FOLDER,
      }),
    close: () => client.close(),
  };
}
