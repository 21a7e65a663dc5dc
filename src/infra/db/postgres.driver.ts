import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import {
  DATABASE_TIMEOUT_MS,
  type DatabaseDriver,
  type QueryLoggers,
} from './database.js';
import { MIGRATION_LOCK_KEY, MIGRATIONS_FOLDER } from './migrations.js';
import { schema } from './schema.js';

/** Migrations may run longer than a request's query; a hung server still ends them. */
const MIGRATION_TIMEOUT_MS = 60_000;

export interface PostgresOptions {
  url: string;
  poolMax: number;
  onError: (err: Error) => void;
}

/**
 * PostgreSQL through a pg Pool. Every wait is bounded: connecting, waiting for a pooled
 * connection, and each statement (on the server by statement_timeout, on the client by
 * query_timeout, so a frozen server cannot hold a request either).
 */
export function openPostgres(
  options: PostgresOptions,
  loggers: QueryLoggers,
): DatabaseDriver {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: DATABASE_TIMEOUT_MS,
    statement_timeout: DATABASE_TIMEOUT_MS,
    query_timeout: DATABASE_TIMEOUT_MS,
    // Idle connections go after a while, so a restarted server is met with fresh ones.
    idleTimeoutMillis: 10_000,
    application_name: 'session-bearer-auth',
  });
  // An idle connection that dies (server restart) emits here; without a listener it would
  // crash the process. The next query opens a new one.
  pool.on('error', options.onError);
  return {
    kind: 'postgres',
    db: drizzle({ client: pool, schema, logger: loggers.requests }),
    backgroundDb: drizzle({
      client: pool,
      schema,
      logger: loggers.background,
    }),
    migrate: () => migratePostgres(options.url),
    close: () => pool.end(),
  };
}

/**
 * Applies the migrations on a connection of its own, holding a session advisory lock, so
 * instances starting together migrate one after the other (the later ones find nothing to do).
 */
export async function migratePostgres(url: string): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: DATABASE_TIMEOUT_MS,
    statement_timeout: MIGRATION_TIMEOUT_MS,
    query_timeout: MIGRATION_TIMEOUT_MS,
    application_name: 'session-bearer-auth migrate',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [
      MIGRATION_LOCK_KEY.toString(),
    ]);
    // Ending the connection releases the lock too, even when a migration fails.
    await migrate(drizzle({ client, schema }), {
      migrationsFolder: MIGRATIONS_FOLDER,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
