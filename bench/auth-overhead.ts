/**
 * What the service's authentication costs, measured against the plain express-session stack a
 * user would otherwise write (bench/reference-app.ts). `npm run bench` builds the service,
 * starts a throwaway redis-server, the service and the reference app as child processes, and
 * drives them with autocannon from this process:
 *
 * - throughput and latency of each variant, in interleaved rounds: every variant runs between
 *   two runs of its baseline, and its ratio is to their mean, so machine noise hits both sides
 *   of a ratio alike; the reported ratio is the median over the rounds;
 * - Redis commands per request, from INFO commandstats around a fixed number of requests;
 * - a login flood: many logins sent at once to one instance of each app, answered in time
 *   with a token or a fast 503 (shed), or not;
 * - a login storm: session reads at a fixed rate while logins saturate password hashing, and
 *   the service's RSS sampled meanwhile;
 * - the service's RSS before and after many logins.
 *
 * It prints a table and writes docs/BENCHMARKS.md and docs/benchmarks.svg. Settings: see
 * bench/lib/settings.ts (BENCH_ROUNDS, BENCH_DURATION, BENCH_LOGINS, ...).
 */
import { cpus, release, totalmem, type } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  securityEventsTable,
  startBenchDatabase,
  type BenchDatabase,
} from './lib/bench-postgres.js';
import { BenchRedis, type CommandCount } from './lib/bench-redis.js';
import { flood, type FloodResult } from './lib/flood.js';
import {
  drive,
  expectAllSucceeded,
  type LoadResult,
  type Target,
} from './lib/load.js';
import { residentMiB, stopChild } from './lib/processes.js';
import { writeReport, consoleReport } from './lib/report.js';
import {
  median,
  type BenchResults,
  type Machine,
  type MemoryResult,
  type StormResult,
  type VariantName,
  type VariantSummary,
} from './lib/results.js';
import {
  referenceCookie,
  referenceLoginBody,
  SERVICE_DATABASE,
  serviceCredentials,
  startReferenceApp,
  startService,
  tokenRequestBody,
  type Server,
} from './lib/servers.js';
import { readSettings, type Settings } from './lib/settings.js';

const STRAGGLER_PAUSE_MS = 250;
const startedAt = Date.now();

/** A progress line with the time since start, so a slow phase shows. */
function progress(message: string): void {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  console.log(`[${clock}] ${message}`);
}

interface Variant {
  name: VariantName;
  request: string;
  target: Target;
  connections: number;
  baseline: VariantName;
  /** Logins keep hashing after the load generator hangs up; the next variant must wait. */
  isLogin: boolean;
}

interface Stack {
  database: BenchDatabase;
  redis: BenchRedis;
  service: Server;
  /** The same build with SECURITY_EVENTS=off, on the same Redis and database. */
  serviceEventsOff: Server;
  reference: Server;
  variants: Variant[];
}

function defineVariants(
  service: string,
  serviceEventsOff: string,
  reference: string,
  credentials: { cookie: string; token: string; referenceCookie: string },
  settings: Settings,
): Variant[] {
  const read = (
    name: VariantName,
    request: string,
    target: Target,
  ): Variant => ({
    name,
    request,
    target,
    connections: settings.connections,
    baseline: 'reference',
    isLogin: false,
  });
  const login = (name: VariantName, request: string, target: Target) => ({
    name,
    request,
    target: { ...target, method: 'POST' as const },
    connections: settings.loginConnections,
    baseline: 'reference-login' as const,
    isLogin: true,
  });
  return [
    read('reference', 'reference app: GET /me, connect.sid cookie', {
      url: `${reference}/me`,
      headers: { cookie: credentials.referenceCookie },
    }),
    read('anonymous', 'GET /health, no credentials', {
      url: `${service}/health`,
    }),
    read(
      'public',
      'GET /.well-known/oauth-authorization-server, no credentials, no I/O',
      { url: `${service}/.well-known/oauth-authorization-server` },
    ),
    read('session', 'GET /admin/me, session cookie', {
      url: `${service}/admin/me`,
      headers: { cookie: credentials.cookie },
    }),
    read('bearer', 'GET /admin/me, bearer token', {
      url: `${service}/admin/me`,
      headers: { authorization: `Bearer ${credentials.token}` },
    }),
    login('reference-login', 'reference app: POST /login (JSON)', {
      url: `${reference}/login`,
      json: referenceLoginBody(),
    }),
    login('login', 'POST /auth/token, password grant (JSON)', {
      url: `${service}/auth/token`,
      json: tokenRequestBody(),
    }),
    login(
      'login-events-off',
      'POST /auth/token, password grant (JSON), the same build with SECURITY_EVENTS=off',
      { url: `${serviceEventsOff}/auth/token`, json: tokenRequestBody() },
    ),
  ];
}

/** One request per variant before measuring: a variant that fails would measure the error path. */
async function checkVariantsAnswer(variants: Variant[]): Promise<void> {
  for (const variant of variants) {
    const result = await drive(variant.target, { connections: 1, amount: 1 });
    expectAllSucceeded(`${variant.name} (first request)`, result);
  }
}

/** Fills `stack` as it goes, so whatever started is stopped even if a later step fails. */
async function startStack(
  stack: Partial<Stack>,
  settings: Settings,
): Promise<Stack> {
  const database = (stack.database = await startBenchDatabase());
  const redis = (stack.redis = await BenchRedis.start());
  const service = (stack.service = await startService(redis, database));
  const eventsOff = (stack.serviceEventsOff = await startService(
    redis,
    database,
    [],
    { SECURITY_EVENTS: 'off' },
  ));
  const reference = (stack.reference = await startReferenceApp(redis));
  const credentials = {
    ...(await serviceCredentials(service.base)),
    referenceCookie: await referenceCookie(reference.base),
  };
  stack.variants = defineVariants(
    service.base,
    eventsOff.base,
    reference.base,
    credentials,
    settings,
  );
  await checkVariantsAnswer(stack.variants);
  return stack as Stack;
}

async function stopStack(stack: Partial<Stack>): Promise<void> {
  if (stack.service) await stopChild(stack.service.child);
  if (stack.serviceEventsOff) await stopChild(stack.serviceEventsOff.child);
  if (stack.reference) await stopChild(stack.reference.child);
  await stack.redis?.stop();
  await stack.database?.stop();
}

/**
 * Logins cut off at the end of a timed run are still being hashed on the server. Any of them
 * started at most about one p99 ago, so waiting that long keeps them out of the next variant.
 */
async function settleAfter(
  variant: Variant,
  result: LoadResult,
): Promise<void> {
  if (variant.isLogin) await sleep(result.p99Ms + STRAGGLER_PAUSE_MS);
}

async function runVariant(
  variant: Variant,
  seconds: number,
): Promise<LoadResult> {
  const result = await drive(variant.target, {
    connections: variant.connections,
    durationSeconds: seconds,
  });
  expectAllSucceeded(variant.name, result, { allowShed: variant.isLogin });
  // Without one answer there is no p99 to wait for, and its stragglers would skew the next run.
  if (result.requestsPerSecond === 0)
    throw new Error(
      `${variant.name}: nothing answered 2xx within ${seconds} s at ${variant.connections} connections; raise BENCH_DURATION`,
    );
  await settleAfter(variant, result);
  return result;
}

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** One timed run; `baselineRps` is what its baseline did around it (its own rate for a baseline). */
interface Run {
  round: number;
  result: LoadResult;
  baselineRps: number;
}

/**
 * Each round runs every baseline between each pair of its variants (reference, anonymous,
 * reference, session, reference, ...), in a variant order rotated by one each round. A
 * variant's ratio is taken against the mean of the two baseline runs on either side of it, so
 * a machine that speeds up or slows down over a round weighs on both sides of the ratio alike.
 */
async function measureRounds(
  variants: Variant[],
  settings: Settings,
): Promise<Map<VariantName, Run[]>> {
  progress(`warm-up: every variant for ${settings.durationSeconds} s`);
  for (const variant of variants)
    await runVariant(variant, settings.durationSeconds);
  const runs = new Map<VariantName, Run[]>(variants.map((v) => [v.name, []]));
  const baselines = variants.filter((v) => v.baseline === v.name);
  for (let round = 0; round < settings.rounds; round++) {
    const line: string[] = [];
    const timed = async (variant: Variant): Promise<LoadResult> => {
      const result = await runVariant(variant, settings.durationSeconds);
      line.push(`${variant.name} ${result.requestsPerSecond.toFixed(1)}`);
      return result;
    };
    const recordBaseline = (variant: Variant, result: LoadResult) => {
      runs.get(variant.name)!.push({
        round,
        result,
        baselineRps: result.requestsPerSecond,
      });
      return result.requestsPerSecond;
    };
    for (const baseline of baselines) {
      const others = variants.filter(
        (v) => v.baseline === baseline.name && v !== baseline,
      );
      let before = recordBaseline(baseline, await timed(baseline));
      for (const variant of rotate(others, round)) {
        const result = await timed(variant);
        const after = recordBaseline(baseline, await timed(baseline));
        runs
          .get(variant.name)!
          .push({ round, result, baselineRps: (before + after) / 2 });
        before = after;
      }
    }
    progress(
      `round ${round + 1}/${settings.rounds} (req/s): ${line.join(', ')}`,
    );
  }
  return runs;
}

/**
 * A fixed number of requests, so none is cut off mid-flight. The pauses let stragglers of the
 * previous run, and commands that follow a response (a store touch after res.end), land on
 * the right side of the readings.
 */
async function countCommands(
  redis: BenchRedis,
  variant: Variant,
  requests: number,
): Promise<CommandCount> {
  await sleep(STRAGGLER_PAUSE_MS);
  return redis.countCommands(async () => {
    const result = await drive(variant.target, {
      connections: Math.min(variant.connections, requests),
      amount: requests,
    });
    expectAllSucceeded(`${variant.name} (counting Redis commands)`, result, {
      allowShed: variant.isLogin,
    });
    await sleep(STRAGGLER_PAUSE_MS);
    return result.completed - result.shed;
  });
}

/** A run's throughput against its baselines around it. */
function ratioOf(run: Run): number {
  return run.result.requestsPerSecond / run.baselineRps;
}

/**
 * A read's throughput against another read of the service (GET /health, or the public route
 * with no I/O), round by round: both were run between reference runs, so dividing their
 * ratios to the reference cancels a machine that drifts over a round.
 */
function ratioAgainst(
  against: VariantName,
  variant: Variant,
  runs: Map<VariantName, Run[]>,
): number | null {
  if (variant.isLogin || variant.baseline === variant.name) return null;
  const others = runs.get(against) ?? [];
  const perRound = runs.get(variant.name)!.flatMap((run) => {
    const other = others.find((a) => a.round === run.round);
    return other ? [ratioOf(run) / ratioOf(other)] : [];
  });
  return perRound.length ? median(perRound) : null;
}

/**
 * One variant's throughput against another's of the same baseline, round by round (each ratio
 * to its baseline divided by the other's): for logins with security events on against off.
 */
function perRoundRatio(
  variant: VariantName,
  against: VariantName,
  runs: Map<VariantName, Run[]>,
): number | null {
  const others = runs.get(against) ?? [];
  const perRound = (runs.get(variant) ?? []).flatMap((run) => {
    const other = others.find((o) => o.round === run.round);
    return other ? [ratioOf(run) / ratioOf(other)] : [];
  });
  return perRound.length ? median(perRound) : null;
}

function summarise(
  variant: Variant,
  runs: Map<VariantName, Run[]>,
  commands: CommandCount,
): VariantSummary {
  const own = runs.get(variant.name)!;
  const results = own.map((run) => run.result);
  const rounds = [...new Set(own.map((run) => run.round))];
  return {
    name: variant.name,
    request: variant.request,
    connections: variant.connections,
    baseline: variant.baseline,
    requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
    ratio: median(own.map(ratioOf)),
    healthRatio: ratioAgainst('anonymous', variant, runs),
    publicRatio: ratioAgainst('public', variant, runs),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    // A baseline runs several times a round: the round's median.
    roundsPerSecond: rounds.map((round) =>
      median(
        own
          .filter((run) => run.round === round)
          .map((run) => run.result.requestsPerSecond),
      ),
    ),
    commands,
  };
}

function variantNamed(variants: Variant[], name: VariantName): Variant {
  return variants.find((v) => v.name === name)!;
}

/** The largest RSS read every `everyMs` until `until` settles. */
async function maxResidentWhile(
  pid: number,
  everyMs: number,
  until: Promise<unknown>,
): Promise<{ maxMiB: number; samples: number }> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  let maxMiB = 0;
  let samples = 0;
  while (!done) {
    maxMiB = Math.max(maxMiB, await residentMiB(pid));
    samples++;
    await Promise.race([sleep(everyMs), until.catch(() => undefined)]);
  }
  return { maxMiB, samples };
}

/**
 * Session reads at a fixed rate, first on an idle service, then during a login storm, with
 * the service's RSS sampled while the storm runs.
 */
async function loginStorm(
  stack: Stack,
  settings: Settings,
): Promise<StormResult> {
  const variants = stack.variants;
  const pid = stack.service.child.pid;
  const login = variantNamed(variants, 'login');
  const read = variantNamed(variants, 'session');
  const readShape = {
    connections: settings.stormReadConnections,
    durationSeconds: settings.stormSeconds,
    overallRate: settings.stormReadRate,
  };
  progress(
    `login storm: ${settings.stormSeconds} s quiet, then ${settings.stormSeconds} s storm`,
  );
  const quietReads = await drive(read.target, readShape);
  expectAllSucceeded('storm reads (quiet)', quietReads);
  const rssBeforeMiB = await residentMiB(pid);
  const storm = Promise.all([
    drive(login.target, {
      connections: settings.stormLoginConnections,
      durationSeconds: settings.stormSeconds,
    }),
    drive(read.target, readShape),
  ]);
  const [[logins, reads], rss] = await Promise.all([
    storm,
    maxResidentWhile(pid, settings.rssSampleMs, storm),
  ]);
  expectAllSucceeded('storm logins', logins, { allowShed: true });
  expectAllSucceeded('storm reads', reads);
  await settleAfter(login, logins);
  return {
    logins,
    reads,
    quietReads,
    rssBeforeMiB,
    rssMaxMiB: rss.maxMiB,
    rssSamples: rss.samples,
  };
}

/** The flood on each app in turn: `floodLogins` logins at once, nothing else running. */
async function loginFloods(
  variants: Variant[],
  settings: Settings,
): Promise<{ service: FloodResult; reference: FloodResult }> {
  const { floodLogins: logins, floodDeadlineMs: deadline } = settings;
  progress(`login flood: ${logins} logins at once, on each app`);
  const service = await flood(
    variantNamed(variants, 'login').target,
    logins,
    deadline,
    (_res, body) =>
      typeof (JSON.parse(body) as { access_token?: unknown }).access_token ===
      'string',
  );
  await sleep(STRAGGLER_PAUSE_MS);
  const reference = await flood(
    variantNamed(variants, 'reference-login').target,
    logins,
    deadline,
    (res) =>
      res.headers.getSetCookie().some((c) => c.startsWith('connect.sid=')),
  );
  await sleep(STRAGGLER_PAUSE_MS);
  return { service, reference };
}

/**
 * RSS before and after many logins, each a new session. Sessions live in Redis, so the
 * process should not grow with them. The service logins double as its Redis command count.
 */
async function memoryAndLoginCommands(
  stack: Stack,
  settings: Settings,
): Promise<{ memory: MemoryResult; commands: CommandCount }> {
  const pid = stack.service.child.pid;
  const login = variantNamed(stack.variants, 'login');
  progress(`memory: ${settings.logins} logins`);
  const keysBefore = await stack.redis.keyCount(SERVICE_DATABASE);
  const startMiB = await residentMiB(pid);
  const commands = await countCommands(stack.redis, login, settings.logins);
  const afterLoginsMiB = await residentMiB(pid);
  await sleep(settings.memoryPauseSeconds * 1000);
  const afterPauseMiB = await residentMiB(pid);
  const memory = {
    logins: settings.logins,
    startMiB,
    afterLoginsMiB,
    afterPauseMiB,
    keysBefore,
    keysAfter: await stack.redis.keyCount(SERVICE_DATABASE),
  };
  return { memory, commands };
}

async function describeMachine(redis: BenchRedis): Promise<Machine> {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpuCount: cores.length,
    memoryGiB: totalmem() / 2 ** 30,
    os: `${type()} ${release()}`,
    node: process.version,
    redis: await redis.version(),
  };
}

async function measure(
  stack: Stack,
  settings: Settings,
): Promise<BenchResults> {
  const machine = await describeMachine(stack.redis);
  const runs = await measureRounds(stack.variants, settings);
  progress('counting Redis commands per request');
  const counts = new Map<VariantName, CommandCount>();
  for (const variant of stack.variants.filter((v) => !v.isLogin))
    counts.set(
      variant.name,
      await countCommands(stack.redis, variant, settings.countRequests),
    );
  const referenceLogin = variantNamed(stack.variants, 'reference-login');
  counts.set(
    'reference-login',
    await countCommands(stack.redis, referenceLogin, settings.referenceLogins),
  );
  const floods = await loginFloods(stack.variants, settings);
  const storm = await loginStorm(stack, settings);
  const { memory, commands } = await memoryAndLoginCommands(stack, settings);
  counts.set('login', commands);
  const eventsOff = variantNamed(stack.variants, 'login-events-off');
  counts.set(
    'login-events-off',
    await countCommands(stack.redis, eventsOff, settings.referenceLogins),
  );
  // The last batch of events is written within about a second of the last login.
  await sleep(2000);
  const securityEvents = {
    loginRatio: perRoundRatio('login', 'login-events-off', runs),
    table: await securityEventsTable(stack.database),
  };
  return {
    date: new Date(),
    machine,
    settings,
    redisExclusive: stack.redis.exclusive,
    variants: stack.variants.map((v) =>
      summarise(v, runs, counts.get(v.name)!),
    ),
    storm,
    flood: floods,
    memory,
    securityEvents,
    database: stack.database.description,
    runtimeSeconds: (Date.now() - startedAt) / 1000,
  };
}

async function main(): Promise<void> {
  const settings = readSettings();
  const stack: Partial<Stack> = {};
  let results: BenchResults;
  try {
    progress('starting redis-server, the service and the reference app');
    results = await measure(await startStack(stack, settings), settings);
  } finally {
    await stopStack(stack);
  }
  console.log(consoleReport(results));
  const written = await writeReport(results);
  console.log(`\nwrote ${written.join(' and ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
