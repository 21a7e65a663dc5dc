import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { mkdir } from 'node:fs/promises';
import type { DatabaseDriver } from './database.js';
import { MIGRATIONS_FOLDER } from './migrations.js';
import { schema } from './schema.js';

/**
 * The embedded PGlite (PostgreSQL compiled to WebAssembly), persisted under `dir`. One
 * process only: two processes opening one directory would corrupt it. Loaded only when used,
 * so a PostgreSQL deployment never loads its WebAssembly.
 */
export async function openPglite(
  dir: string,
  logger: DrizzleLogger,
): Promise<DatabaseDriver> {
  const [{ PGlite }, { drizzle }, { migrate }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle({ client, schema, logger });
  return {
    kind: 'pglite',
    db,
    // One process holds the directory, so there is nobody to serialise with.
    migrate: () =>
      migrate(drizzle({ client, schema }), {
        migrationsFolder: MIGRATIONS_FOLDER,
      }),
    close: () => client.close(),
  };
}
