import type { CommandCount } from './bench-redis.js';
import type { FloodResult } from './flood.js';
import type { LoadResult } from './load.js';
import type { Settings } from './settings.js';

export type VariantName =
  | 'reference'
  | 'anonymous'
  | 'public'
  | 'session'
  | 'bearer'
  | 'reference-login'
  | 'login'
  | 'login-events-off';

export interface VariantSummary {
  name: VariantName;
  /** e.g. "GET /admin/me, session cookie". */
  request: string;
  connections: number;
  /** The variant the ratio divides by. */
  baseline: VariantName;
  /** Medians over the measured rounds. */
  requestsPerSecond: number;
  ratio: number;
  /**
   * Reads only: the median over the rounds of this variant's ratio divided by the anonymous
   * route's ratio in the same round, i.e. its throughput against GET /health.
   */
  healthRatio: number | null;
  /** Reads only: the same against the public route with no I/O (what authentication itself costs). */
  publicRatio: number | null;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  roundsPerSecond: number[];
  commands: CommandCount;
}

export interface StormResult {
  logins: LoadResult;
  /** Session reads at the fixed rate while the logins run. */
  reads: LoadResult;
  /** The same reads on an idle service, for comparison. */
  quietReads: LoadResult;
  /** The service's RSS just before the storm, and the most read while it ran. */
  rssBeforeMiB: number;
  rssMaxMiB: number;
  rssSamples: number;
}

export interface MemoryResult {
  logins: number;
  startMiB: number;
  afterLoginsMiB: number;
  afterPauseMiB: number;
  keysBefore: number;
  keysAfter: number;
}

/** What the security-event record costs: logins with it against logins without, and its rows. */
export interface SecurityEventsResult {
  /**
   * Median over the rounds of the login's ratio divided by the events-off login's ratio in
   * the same round (both against reference-login): logins/s with events on, per login/s off.
   */
  loginRatio: number | null;
  /** `security_events` after the run; null on PGlite, which only the service can open. */
  table: {
    rows: number;
    /** pg_total_relation_size: heap, TOAST and indexes. */
    totalBytes: number;
    /** The mean pg_column_size of a whole row. */
    rowBytes: number;
  } | null;
}

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
}

export interface BenchResults {
  date: Date;
  machine: Machine;
  settings: Settings;
  /** False when an existing Redis was used, whose counters include other clients. */
  redisExclusive: boolean;
  variants: VariantSummary[];
  storm: StormResult;
  flood: { service: FloodResult; reference: FloodResult };
  memory: MemoryResult;
  securityEvents: SecurityEventsResult;
  /** Where the service kept its accounts. */
  database: string;
  runtimeSeconds: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
