import pg from 'pg';
import { postgres } from '../../test/harness/postgres.mjs';
import type { SecurityEventsResult } from './results.js';

/** Where the service keeps its accounts during the benchmark. */
export interface BenchDatabase {
  /** For the service's DATABASE_URL; empty for the embedded PGlite. */
  url: string;
  /** For the report, e.g. "PostgreSQL 16.4, a database of the benchmark's own". */
  description: string;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL, as in production: /health pings it on every call, so on the embedded
 * PGlite (WebAssembly, on the service's own event loop) the anonymous baseline would measure
 * PGlite rather than the framework. BENCH_DATABASE_URL is used as it is; otherwise the test
 * harness makes a database of the run's own, on 127.0.0.1:5432 or on a throwaway server, and
 * drops it afterwards. Without any PostgreSQL the service falls back to PGlite, and says so.
 */
export async function startBenchDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given)
    return {
      url: given,
      description: 'PostgreSQL at BENCH_DATABASE_URL',
      stop: async () => undefined,
    };
  // The harness creates the run's database on DATABASE_URL's server and names it there.
  delete process.env.DATABASE_URL;
  try {
    await postgres.start();
  } catch (err) {
    console.warn(
      `No PostgreSQL (${err instanceof Error ? err.message : String(err)}): the service uses the embedded PGlite, which /health pings on every call.`,
    );
    return {
      url: '',
      description:
        'the embedded PGlite (no PostgreSQL was found): **/health pings it on every call, so the anonymous baseline is slower than with PostgreSQL**',
      stop: async () => undefined,
    };
  }
  return {
    url: process.env.DATABASE_URL!,
    description:
      'PostgreSQL, a fresh database of the run (on 127.0.0.1:5432, or a throwaway server)',
    stop: () => postgres.stop(),
  };
}

/** The size of `security_events` after the run: rows, the whole relation, a row's mean. */
export async function securityEventsTable(
  database: BenchDatabase,
): Promise<SecurityEventsResult['table']> {
  if (!database.url) return null;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      rows: string;
      total: string;
      row: string | null;
    }>(
      `select count(*) as rows, pg_total_relation_size('security_events') as total,
              avg(pg_column_size(e.*)) as row
         from security_events e`,
    );
    return {
      rows: Number(rows[0].rows),
      totalBytes: Number(rows[0].total),
      rowBytes: Number(rows[0].row ?? 0),
    };
  } finally {
    await client.end();
  }
}
