/** What `npm run bench` does, from BENCH_* environment variables; defaults in brackets. */
export interface Settings {
  /** BENCH_ROUNDS [5]: measured rounds, each running every variant once. */
  rounds: number;
  /** BENCH_DURATION [5]: seconds per variant per round, and for the warm-up round. */
  durationSeconds: number;
  /** BENCH_CONNECTIONS [50]: keep-alive connections for the read variants. */
  connections: number;
  /** BENCH_LOGIN_CONNECTIONS [16]: connections for the login variants (CPU-bound on hashing). */
  loginConnections: number;
  /** BENCH_COUNT_REQUESTS [2000]: requests per read variant while counting Redis commands. */
  countRequests: number;
  /** BENCH_REFERENCE_LOGINS [200]: reference-app logins while counting its Redis commands. */
  referenceLogins: number;
  /** BENCH_LOGINS [2000]: service logins between the two memory readings. */
  logins: number;
  /** BENCH_STORM_SECONDS [10]: length of the login storm. */
  stormSeconds: number;
  /** BENCH_STORM_CONNECTIONS [16]: login connections during the storm. */
  stormLoginConnections: number;
  /** BENCH_STORM_READ_RATE [200]: session reads per second during the storm, on 10 connections. */
  stormReadRate: number;
  stormReadConnections: number;
  /** BENCH_FLOOD_LOGINS [60]: logins sent at once, each on its own connection, to one instance. */
  floodLogins: number;
  /** Every flood answer should arrive within this long (issue 15). */
  floodDeadlineMs: number;
  /** How often the service's RSS is read during the storm. */
  rssSampleMs: number;
  /** Pause before the last memory reading, so timers and GC can settle. */
  memoryPauseSeconds: number;
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[1-9]\d*$/.test(raw))
    throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

export function readSettings(): Settings {
  return {
    rounds: positiveInteger('BENCH_ROUNDS', 5),
    durationSeconds: positiveInteger('BENCH_DURATION', 5),
    connections: positiveInteger('BENCH_CONNECTIONS', 50),
    loginConnections: positiveInteger('BENCH_LOGIN_CONNECTIONS', 16),
    countRequests: positiveInteger('BENCH_COUNT_REQUESTS', 2000),
    referenceLogins: positiveInteger('BENCH_REFERENCE_LOGINS', 200),
    logins: positiveInteger('BENCH_LOGINS', 2000),
    stormSeconds: positiveInteger('BENCH_STORM_SECONDS', 10),
    stormLoginConnections: positiveInteger('BENCH_STORM_CONNECTIONS', 16),
    stormReadRate: positiveInteger('BENCH_STORM_READ_RATE', 200),
    stormReadConnections: 10,
    floodLogins: positiveInteger('BENCH_FLOOD_LOGINS', 60),
    floodDeadlineMs: 5000,
    rssSampleMs: 100,
    memoryPauseSeconds: 2,
  };
}
