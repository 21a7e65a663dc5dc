/**
 * Where the time of a request goes. `npm run bench:profile` starts a throwaway Redis and the
 * built service under `node --cpu-prof`, drives one read variant (GET /admin/me by session
 * cookie, by default), stops the service with SIGTERM (its shutdown hooks exit cleanly, so
 * Node writes the profile), and prints self time by function and by origin (npm package, Node
 * internals, app code, GC). The raw profile is copied to bench/results/ for Chrome DevTools.
 *
 *   BENCH_PROFILE_SECONDS [10], BENCH_CONNECTIONS [50],
 *   BENCH_PROFILE_VARIANT [session]: session, bearer or anonymous (GET /health)
 */
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchDatabase } from './lib/bench-postgres.js';
import { BenchRedis } from './lib/bench-redis.js';
import {
  formatProfileSummary,
  summariseProfile,
  type CpuProfile,
} from './lib/cpu-profile.js';
import { drive, expectAllSucceeded, type Target } from './lib/load.js';
import { repoRoot, stopChild } from './lib/processes.js';
import {
  serviceCredentials,
  startService,
  type Server,
} from './lib/servers.js';
import { readSettings } from './lib/settings.js';

const TOP_FUNCTIONS = 25;
/** Requests before the profiled window, so JIT warm-up does not dominate the profile. */
const WARM_UP_SECONDS = 2;

const PROFILED_VARIANTS = ['session', 'bearer', 'anonymous'] as const;
type ProfiledVariant = (typeof PROFILED_VARIANTS)[number];

function profiledVariant(): ProfiledVariant {
  const raw = process.env.BENCH_PROFILE_VARIANT || 'session';
  const variant = PROFILED_VARIANTS.find((v) => v === raw);
  if (!variant)
    throw new Error(
      `BENCH_PROFILE_VARIANT must be one of ${PROFILED_VARIANTS.join(', ')}, got "${raw}"`,
    );
  return variant;
}

function profileSeconds(): number {
  const raw = process.env.BENCH_PROFILE_SECONDS ?? '10';
  if (!/^[1-9]\d*$/.test(raw))
    throw new Error(
      `BENCH_PROFILE_SECONDS must be a positive whole number, got "${raw}"`,
    );
  return Number(raw);
}

/** Microseconds on the monotonic clock, the same clock V8 stamps profile samples with. */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function targetOf(
  service: Server,
  variant: ProfiledVariant,
): Promise<Target> {
  if (variant === 'anonymous') return { url: `${service.base}/health` };
  const { cookie, token } = await serviceCredentials(service.base);
  const headers: Record<string, string> =
    variant === 'session' ? { cookie } : { authorization: `Bearer ${token}` };
  return { url: `${service.base}/admin/me`, headers };
}

async function driveReads(
  service: Server,
  variant: ProfiledVariant,
  seconds: number,
): Promise<{
  fromMicros: number;
  toMicros: number;
  requestsPerSecond: number;
}> {
  const target = await targetOf(service, variant);
  const { connections } = readSettings();
  expectAllSucceeded(
    'warm-up',
    await drive(target, { connections, durationSeconds: WARM_UP_SECONDS }),
  );
  const fromMicros = monotonicMicros();
  const result = await drive(target, { connections, durationSeconds: seconds });
  const toMicros = monotonicMicros();
  expectAllSucceeded(`${variant} reads`, result);
  return { fromMicros, toMicros, requestsPerSecond: result.requestsPerSecond };
}

async function writtenProfile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0)
    throw new Error(
      `the service wrote no .cpuprofile to ${dir} when stopped with SIGTERM`,
    );
  return join(dir, files[0]);
}

/** Keeps the raw profile (and the printed summary) under bench/results/, which git ignores. */
async function keep(
  variant: ProfiledVariant,
  profilePath: string,
  summary: string,
): Promise<string> {
  const results = join(repoRoot(), 'bench', 'results');
  await mkdir(results, { recursive: true });
  const stem = `${variant}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const kept = join(results, `${stem}.cpuprofile`);
  await copyFile(profilePath, kept);
  await writeFile(join(results, `${stem}.txt`), `${summary}\n`);
  return kept;
}

async function main(): Promise<void> {
  const variant = profiledVariant();
  const seconds = profileSeconds();
  const profileDir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
  const database = await startBenchDatabase();
  const redis = await BenchRedis.start();
  try {
    const service = await startService(redis, database, [
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
    ]);
    console.log(`profiling the ${variant} variant for ${seconds} s`);
    const load = await driveReads(service, variant, seconds);
    const exit = await stopChild(service.child, 'SIGTERM');
    const profilePath = await writtenProfile(profileDir);
    const profile = JSON.parse(
      await readFile(profilePath, 'utf8'),
    ) as CpuProfile;
    const summary = formatProfileSummary(
      summariseProfile(profile, load),
      TOP_FUNCTIONS,
    );
    const header = `${load.requestsPerSecond.toFixed(0)} req/s while profiled; service stopped by SIGTERM (${exit}).`;
    console.log(`\n${header}\n${summary}`);
    const kept = await keep(variant, profilePath, `${header}\n${summary}`);
    console.log(
      `\nraw profile: ${kept} (open in Chrome DevTools, Performance tab)`,
    );
  } finally {
    await redis.stop();
    await database.stop();
    await rm(profileDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
