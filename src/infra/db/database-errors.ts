import { DomainError } from '../http/domain-error.js';

/** What a request gets when PostgreSQL is down, hung or not migrated yet. */
export const DATABASE_UNAVAILABLE = new DomainError(
  'database_unavailable',
  'The accounts database is unavailable',
);

/** Thrown when a query misses its deadline, whatever the driver is still waiting for. */
export class DatabaseTimeoutError extends Error {
  constructor(ms: number) {
    super(`The database did not answer within ${ms} ms`);
    this.name = 'DatabaseTimeoutError';
  }
}

/** Thrown while the schema is not known to be migrated yet (the database was not reachable). */
export class DatabaseNotReadyError extends Error {
  constructor(cause: unknown) {
    super('The database schema is not migrated yet', { cause });
    this.name = 'DatabaseNotReadyError';
  }
}

/**
 * SQLSTATE classes and codes that mean "the database is not there right now", not "the query
 * is wrong": connection exceptions (08), shutdown or startup (57P01-57P03), cancelled by
 * statement_timeout (57014), too many connections (53300), out of resources (53).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|57014|53...)$/;
const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND|timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/;

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/**
 * The error and its causes (Drizzle wraps the driver's error). Not `instanceof Error`: socket
 * errors come from Node's own realm, which differs from the app's under a test sandbox.
 */
function causes(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (
    let e = err;
    typeof e === 'object' && e !== null && chain.length < 5;
    e = (e as ErrorLike).cause
  )
    chain.push(e);
  return chain;
}

function sqlState(err: ErrorLike): string | undefined {
  return typeof err.code === 'string' ? err.code : undefined;
}

/** True for errors that mean PostgreSQL is down, unreachable, hung or not migrated: a 503. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return causes(err).some(
    (e) =>
      e instanceof DatabaseTimeoutError ||
      e instanceof DatabaseNotReadyError ||
      UNAVAILABLE_SQLSTATE.test(sqlState(e) ?? '') ||
      (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)),
  );
}

/** True for a unique_violation (23505), with or without Drizzle's wrapper. */
export function isUniqueViolation(err: unknown): boolean {
  return causes(err).some((e) => sqlState(e) === '23505');
}
