import { Logger } from '@nestjs/common';
import { DrizzleQueryError, type Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import {
  DatabaseNotReadyError,
  DatabaseTimeoutError,
} from './database-errors.js';
import { schema } from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction opened by `db.transaction`: what a store writing inside another's transaction is given. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Connect, statement and whole-query bound, like Redis's command timeout: an outage is a fast 503. */
export const DATABASE_TIMEOUT_MS = 1500;
const MIGRATION_RETRY_MS = 2000;

/** Counts the statements the app sends, for /metrics-free checks such as "no query per request". */
class QueryCounter implements DrizzleLogger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
}

/** Where each Drizzle instance of a driver reports its statements. */
export interface QueryLoggers {
  requests: DrizzleLogger;
  background: DrizzleLogger;
}

export interface DatabaseDriver {
  /** Which backend: `postgres` over a pg Pool, or the embedded `pglite`. */
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** The same connections, for work that serves no request; its statements are counted apart. */
  readonly backgroundDb: Db;
  /** Applies the committed migrations, serialised between instances. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The accounts database: PostgreSQL (DATABASE_URL) or the embedded PGlite, behind one Drizzle
 * schema and one set of queries. Boot never waits for PostgreSQL: migrations are tried at
 * boot and, until they succeed, again before each query and every couple of seconds, so the
 * service starts without the database (account routes answer 503) and heals when it appears.
 */
export class Database {
  private readonly logger = new Logger('Database');
  private migrated: boolean;
  private migrating?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly driver: DatabaseDriver,
    private readonly counters: {
      requests: QueryCounter;
      background: QueryCounter;
    },
    migrateAtBoot: boolean,
  ) {
    this.migrated = !migrateAtBoot;
  }

  static async open(
    open: (loggers: QueryLoggers) => Promise<DatabaseDriver>,
    migrateAtBoot: boolean,
  ): Promise<Database> {
    const counters = {
      requests: new QueryCounter(),
      background: new QueryCounter(),
    };
    return new Database(await open(counters), counters, migrateAtBoot);
  }

  get kind(): DatabaseDriver['kind'] {
    return this.driver.kind;
  }

  /** Statements sent since boot through `db` (migrations and `backgroundDb` excluded). */
  get queryCount(): number {
    return this.counters.requests.count;
  }

  /** Statements sent since boot through `backgroundDb`. */
  get backgroundQueryCount(): number {
    return this.counters.background.count;
  }

  /** Runs the migrations now if they are pending; when the database is away, keeps retrying. */
  async start(): Promise<void> {
    await this.withDeadline(this.ensureMigrated(), true).catch(
      (err: unknown) => {
        this.logger.warn(
          `Database not available at boot (${(err as Error).message}); retrying`,
        );
        this.scheduleRetry();
      },
    );
  }

  /**
   * Runs `query` (a Drizzle query builder or any database call) with a deadline: whatever the
   * driver still waits for (a pool slot, a connection, an answer), the caller has its error
   * within DATABASE_TIMEOUT_MS.
   */
  async run<T>(query: () => PromiseLike<T>): Promise<T> {
    await this.withDeadline(this.ensureMigrated(), true);
    try {
      return await this.withDeadline(query(), false);
    } catch (err) {
      // Drizzle's wrapper puts the query's parameters (password hashes) into its message,
      // which would reach the error log; the driver's own error says what went wrong.
      if (err instanceof DrizzleQueryError && err.cause) throw err.cause;
      throw err;
    }
  }

  /** One round trip, for /health. */
  async ping(): Promise<void> {
    await this.run(() => this.driver.db.execute('select 1'));
  }

  get db(): Db {
    return this.driver.db;
  }

  /**
   * For work that serves no request (a timer's batch, retention): the same connections, its
   * statements counted in `backgroundQueryCount`, so a timer firing while a request is measured
   * is not counted as the request's.
   */
  get backgroundDb(): Db {
    return this.driver.backgroundDb;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.driver.close();
  }

  private ensureMigrated(): Promise<void> {
    if (this.migrated) return Promise.resolve();
    this.migrating ??= this.driver.migrate().then(
      () => {
        this.migrated = true;
        this.migrating = undefined;
        clearTimeout(this.retryTimer);
        this.logger.log('Database schema is up to date');
      },
      (err: unknown) => {
        this.migrating = undefined;
        throw err;
      },
    );
    return this.migrating;
  }

  private scheduleRetry(): void {
    if (this.closed || this.migrated) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.ensureMigrated().catch(() => this.scheduleRetry());
    }, MIGRATION_RETRY_MS);
    this.retryTimer.unref();
  }

  private withDeadline<T>(
    work: PromiseLike<T>,
    migrating: boolean,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            migrating
              ? new DatabaseNotReadyError(
                  new DatabaseTimeoutError(DATABASE_TIMEOUT_MS),
                )
              : new DatabaseTimeoutError(DATABASE_TIMEOUT_MS),
          ),
        DATABASE_TIMEOUT_MS,
      );
    });
    return Promise.race([
      Promise.resolve(work).catch((err: unknown) => {
        throw migrating ? new DatabaseNotReadyError(err) : err;
      }),
      deadline,
    ]).finally(() => clearTimeout(timer));
  }
}
