import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { CommandCount } from './bench-redis.js';
import { formatRate, renderChart } from './chart.js';
import type { LoadResult } from './load.js';
import { repoRoot } from './processes.js';
import type { FloodResult } from './flood.js';
import type { BenchResults, VariantSummary } from './results.js';
import { metText, targetChecks } from './targets.js';

const PRESERVED_HEADING = '## Where the time goes';
const PRESERVED_PLACEHOLDER = '(profile pending)';

function ms(value: number): string {
  return value < 10
    ? value.toFixed(1)
    : Math.round(value).toLocaleString('en-US');
}

function mib(value: number): string {
  return value.toFixed(1);
}

/** Two decimals; a command sent only now and then (below 0.01) keeps one significant digit. */
function perRequestText(value: number): string {
  return value >= 0.01 ? value.toFixed(2) : value.toPrecision(1);
}

/** "2.00 (getex 1.00, expire 1.00)", the most frequent command first. */
function formatCommands(count: CommandCount): string {
  const breakdown = Object.entries(count.breakdown)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([command, perRequest]) => `${command} ${perRequestText(perRequest)}`)
    .join(', ');
  return `${count.perRequest.toFixed(2)} (${breakdown || 'none'})`;
}

interface Column {
  header: string;
  cell: (v: VariantSummary) => string;
  /** Numbers align right. */
  numeric: boolean;
}

const COLUMNS: Column[] = [
  { header: 'variant', cell: (v) => v.name, numeric: false },
  {
    header: 'req/s',
    cell: (v) => formatRate(v.requestsPerSecond),
    numeric: true,
  },
  { header: 'ratio', cell: (v) => v.ratio.toFixed(2), numeric: true },
  {
    header: 'vs /health',
    cell: (v) => (v.healthRatio === null ? '' : v.healthRatio.toFixed(2)),
    numeric: true,
  },
  {
    header: 'vs no-I/O route',
    cell: (v) => (v.publicRatio === null ? '' : v.publicRatio.toFixed(2)),
    numeric: true,
  },
  { header: 'p50 ms', cell: (v) => ms(v.p50Ms), numeric: true },
  { header: 'p99 ms', cell: (v) => ms(v.p99Ms), numeric: true },
  { header: 'shed (503)', cell: (v) => String(v.non2xx), numeric: true },
  {
    header: 'Redis commands/request (breakdown)',
    cell: (v) => formatCommands(v.commands),
    numeric: false,
  },
];

function textTable(variants: VariantSummary[]): string {
  const rows = variants.map((v) => COLUMNS.map((c) => c.cell(v)));
  const widths = COLUMNS.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => r[i].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        COLUMNS[i].numeric ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [
    line(COLUMNS.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

function markdownTable(variants: VariantSummary[]): string {
  const header = `| ${COLUMNS.map((c) => c.header).join(' | ')} |`;
  const rule = `|${COLUMNS.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`;
  const rows = variants.map(
    (v) =>
      `| ${COLUMNS.map((c) => c.cell(v).replace(/\|/g, '\\|')).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

function latencies(result: LoadResult): string {
  return `p50 ${ms(result.p50Ms)} ms, p99 ${ms(result.p99Ms)} ms, max ${ms(result.maxMs)} ms`;
}

function minutesAndSeconds(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

function floodText(name: string, f: FloodResult): string {
  return `${name}: ${f.loggedIn} logged in, ${f.shed} shed, ${f.other.length} other; ${f.withinDeadline}/${f.logins} within ${f.deadlineMs / 1000} s, slowest ${ms(f.maxMs)} ms`;
}

export function consoleReport(results: BenchResults): string {
  const { storm, memory, settings, flood } = results;
  const growth = memory.afterPauseMiB - memory.startMiB;
  return [
    '',
    `Medians of ${settings.rounds} rounds x ${settings.durationSeconds} s; ratio to the reference runs on either side of each run (logins: reference-login), median over the rounds; vs /health: to the anonymous run of the same round`,
    '',
    textTable(results.variants),
    '',
    `Login flood (${settings.floodLogins} at once):`,
    `  ${floodText('service  ', flood.service)}`,
    `  ${floodText('reference', flood.reference)}`,
    `Login storm (${settings.stormSeconds} s, ${settings.stormLoginConnections} login connections, session reads at ${settings.stormReadRate}/s):`,
    `  reads, quiet:       ${latencies(storm.quietReads)}`,
    `  reads, in storm:    ${latencies(storm.reads)}`,
    `  logins in storm:    ${storm.logins.completed} (${formatRate(storm.logins.requestsPerSecond)}/s), p50 ${ms(storm.logins.p50Ms)} ms, ${storm.logins.shed} shed`,
    `  service RSS:        ${mib(storm.rssBeforeMiB)} MiB before, at most ${mib(storm.rssMaxMiB)} MiB during`,
    `Memory (service RSS): ${mib(memory.startMiB)} MiB -> ${mib(memory.afterLoginsMiB)} MiB after ${memory.logins} logins -> ${mib(memory.afterPauseMiB)} MiB after ${settings.memoryPauseSeconds} s; growth ${growth >= 0 ? '+' : ''}${mib(growth)} MiB`,
    '',
    'Targets (issue 15):',
    ...targetChecks(results).map(
      (t) => `  [${metText(t.met)}] ${t.target}: ${t.result}`,
    ),
    `Measured in ${minutesAndSeconds(results.runtimeSeconds)}.`,
  ].join('\n');
}

function machineSection(results: BenchResults): string {
  const { machine } = results;
  const redisNote = results.redisExclusive
    ? 'a throwaway `redis-server` started by the benchmark (no persistence), so its command counters see only the benchmark'
    : 'an existing Redis (redis-server was not installed): **the command counts include any other client of that Redis**';
  return `## Machine

- CPU: ${machine.cpuModel}, ${machine.cpuCount} logical CPUs; ${machine.memoryGiB.toFixed(1)} GiB RAM; ${machine.os}
- Node ${machine.node}; Redis ${machine.redis}, ${redisNote}
- The load generator (autocannon, in the benchmark's own process), the service, the reference app and Redis all share this machine. Absolute numbers are therefore lower than on a dedicated server; the ratios compare the service and the reference under the same conditions.`;
}

function methodSection(results: BenchResults): string {
  const s = results.settings;
  const variantLines = results.variants
    .map(
      (v) =>
        `| ${v.name} | ${v.request} | ${v.connections} | ${v.baseline === v.name ? '(baseline)' : v.baseline} |`,
    )
    .join('\n');
  return `## Method

- **Service**: the production build, \`node dist/main.js\`, with \`LOG_LEVEL=warn\` (request logging off), \`METRICS=on\`, Redis database 0, accounts in ${results.database}. The login throttle's free failures are raised (\`LOGIN_FREE_FAILURES_PER_ACCOUNT\` and \`_PER_ADDRESS\` 1,000,000): it counts logins in flight against them, and every login here is one account's from 127.0.0.1. The login queue keeps its default wait limit (\`LOGIN_MAX_WAIT_MS\`).
- **Security events off**: a second instance of the same build, the same settings and stores but \`SECURITY_EVENTS=off\`, for the \`login-events-off\` variant; logins with events on against it, round by round, is what recording them costs.
- **Reference**: [bench/reference-app.ts](../bench/reference-app.ts), the stack a user would write by hand: express 5, express-session (\`resave: false\`, \`saveUninitialized: false\`, cookie \`httpOnly\`, \`sameSite: 'lax'\`, \`maxAge\` 15 min), connect-redis 8 \`RedisStore\` with its default prefix, ioredis; scrypt with the service's parameters (N=2^17, r=8, p=1) for its one user. Redis database 1.
- **Variants**, each driven by autocannon over keep-alive connections:

| variant | request | connections | ratio against |
|---|---|---:|---|
${variantLines}

- **Rounds**: one warm-up round, then ${s.rounds} round${s.rounds === 1 ? '' : 's'}; each run lasts ${s.durationSeconds} s, and each round runs every variant once between two runs of its baseline (reference, anonymous, reference, public, reference, session, reference, bearer, reference; then reference-login, login, reference-login, login-events-off, reference-login), in a variant order rotated by one each round. A variant's ratio in a round is to the mean of the two baseline runs on either side of it, so a machine that slows down or speeds up over the round weighs on both sides alike. "vs /health" is a read's ratio divided by the anonymous route's ratio in the same round: what authentication costs against an unauthenticated route of the same service (GET /health, which pings Redis and the database). "vs no-I/O route" is the same against \`public\`, GET /.well-known/oauth-authorization-server, which touches neither store: against it, the cost of authentication itself shows. req/s is 2xx answers over the time from the start of the run to its last response (a login under load can take seconds, so counting to the end of the round would charge the logins cut off there at random); p50 and p99 come from autocannon's latency histogram (whole milliseconds). The table shows medians over all runs; the ratio is the median of the per-round ratios. After a login variant the next one waits for the logins cut off mid-hash to finish. A login answered 503 (shed by the login queue) is counted, not a failure; any other non-2xx answer or socket error stops the benchmark.
- **Redis commands per request**: \`INFO commandstats\` before and after a fixed number of requests, \`info\` itself left out: ${s.countRequests} requests per read variant, ${s.referenceLogins} reference logins, and for the service's logins the ${s.logins} logins of the memory test (per login answered 200).
- **Login flood**: ${s.floodLogins} logins sent at the same moment, each on its own connection, to the service and then to the reference, with nothing else running. Each answer is timed from that moment to its last byte and sorted: logged in (200 with an access token; for the reference, with its session cookie), shed (503 with \`Retry-After\`), or other.
- **Login storm**: session reads (\`GET /admin/me\`) at a fixed ${s.stormReadRate} requests/s over ${s.stormReadConnections} connections for ${s.stormSeconds} s, first on an idle service, then while ${s.stormLoginConnections} connections send logins as fast as they are answered. Read latency during the storm shows whether password hashing starves the event loop. The service's VmRSS is read every ${s.rssSampleMs} ms while the storm runs.
- **Memory**: the service's VmRSS from \`/proc/<pid>/status\` after all the above (warm), after ${s.logins} further logins (each a new session), and after a ${s.memoryPauseSeconds} s pause.`;
}

/** Each round's req/s, in the order the variants are listed: the spread shows the noise. */
function roundsTable(variants: VariantSummary[]): string {
  const rounds = variants[0]?.roundsPerSecond.length ?? 0;
  const header = `| variant | ${Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ')} |`;
  const rule = `|---|${'---:|'.repeat(rounds)}`;
  const rows = variants.map(
    (v) => `| ${v.name} | ${v.roundsPerSecond.map(formatRate).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

function resultsSection(results: BenchResults): string {
  return `## Results

${markdownTable(results.variants)}

![chart](benchmarks.svg)

The ratio is the median of the per-round ratios, so it can differ from the quotient of the two req/s medians. Requests per second in each round (for the baselines, the median of the round's runs):

${roundsTable(results.variants)}`;
}

function targetsSection(results: BenchResults): string {
  const rows = targetChecks(results)
    .map(
      (t) =>
        `| ${t.target} | ${t.result.replace(/\|/g, '\\|')} | ${metText(t.met, true)} |`,
    )
    .join('\n');
  return `## Targets

Issue 15's targets, checked against this run's numbers ("reported": no target, only the number).

| target | result | met? |
|---|---|---|
${rows}`;
}

function floodSection(results: BenchResults): string {
  const { flood, settings } = results;
  const row = (name: string, f: FloodResult) =>
    `| ${name} | ${f.loggedIn} | ${f.shed} | ${f.other.length} | ${f.withinDeadline} | ${ms(f.maxMs)} | ${f.maxShedMs === null ? '' : ms(f.maxShedMs)} |`;
  return `## Login flood

${settings.floodLogins} logins at once to one instance; target for the service: every answer within ${settings.floodDeadlineMs / 1000} s, each a token or a 503 with \`Retry-After\`.

| app | logged in | shed (503 + Retry-After) | other | answered within ${settings.floodDeadlineMs / 1000} s | slowest answer ms | slowest 503 ms |
|---|---:|---:|---:|---:|---:|---:|
${row('service', flood.service)}
${row('reference', flood.reference)}`;
}

function stormSection(results: BenchResults): string {
  const { storm } = results;
  const row = (name: string, r: LoadResult) =>
    `| ${name} | ${r.completed} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} |`;
  return `## Login storm

| load | requests | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
${row('session reads, idle service', storm.quietReads)}
${row('session reads, during the storm', storm.reads)}
${row('logins (the storm)', storm.logins)}

Logins completed during the storm: ${formatRate(storm.logins.requestsPerSecond)}/s, ${storm.logins.shed} shed. Target for the reads: p99 under 50 ms (reported, not asserted). Service RSS: ${mib(storm.rssBeforeMiB)} MiB before the storm, at most ${mib(storm.rssMaxMiB)} MiB during it (${storm.rssSamples} readings).`;
}

function memorySection(results: BenchResults): string {
  const { memory, settings } = results;
  const growth = memory.afterPauseMiB - memory.startMiB;
  return `## Memory

| reading | service RSS (MiB) | keys in Redis db 0 |
|---|---:|---:|
| warm, before the logins | ${mib(memory.startMiB)} | ${memory.keysBefore} |
| after ${memory.logins} logins | ${mib(memory.afterLoginsMiB)} | ${memory.keysAfter} |
| after a further ${settings.memoryPauseSeconds} s | ${mib(memory.afterPauseMiB)} | |

Growth: ${growth >= 0 ? '+' : ''}${mib(growth)} MiB. Sessions live in Redis, not in the process.`;
}

/** The "Where the time goes" section of the old file, kept verbatim: it is written by hand. */
async function preservedSection(path: string): Promise<string> {
  const old = await readFile(path, 'utf8').catch(() => '');
  const start = old.search(/^## Where the time goes[ \t]*$/m);
  if (start < 0) return `${PRESERVED_HEADING}\n\n${PRESERVED_PLACEHOLDER}\n`;
  const next = old.indexOf('\n## ', start + PRESERVED_HEADING.length);
  return old.slice(start, next < 0 ? undefined : next + 1).trimEnd() + '\n';
}

/**
 * The generated sections, laid out by Prettier so `npm run format` leaves the file alone; the
 * preserved section is appended as it was, since it is written by hand.
 */
async function markdown(
  results: BenchResults,
  path: string,
  preserved: string,
): Promise<string> {
  const date = results.date.toISOString().replace('T', ' ').slice(0, 16);
  const generated = [
    `# Benchmarks

Written by \`npm run bench\` (bench/auth-overhead.ts) on ${date} UTC; the run took ${minutesAndSeconds(results.runtimeSeconds)}. The ratio column travels between machines better than req/s does. \`npm run bench:profile\` records a CPU profile of a read variant (\`BENCH_PROFILE_VARIANT\`: session, bearer or anonymous) for the section at the end.`,
    machineSection(results),
    methodSection(results),
    resultsSection(results),
    targetsSection(results),
    floodSection(results),
    stormSection(results),
    memorySection(results),
  ].join('\n\n');
  const options = await resolveConfig(path);
  const formatted = await format(generated, { ...options, filepath: path });
  return `${formatted}\n${preserved}`;
}

function chart(results: BenchResults): string {
  const reads = results.variants.filter((v) => v.baseline === 'reference');
  const logins = results.variants.filter(
    (v) => v.baseline === 'reference-login',
  );
  const { settings } = results;
  return renderChart(
    'Auth overhead: median requests per second',
    [
      `Ratio: to the grey reference bar of the same panel, run on either side of each variant; median of ${settings.rounds} rounds.`,
      `${results.machine.cpuCount} CPUs shared by the load generator, the service, the reference app and Redis.`,
    ],
    [
      { title: `Reads (${settings.connections} connections)`, variants: reads },
      {
        title: `Logins (${settings.loginConnections} connections)`,
        variants: logins,
      },
    ],
  );
}

/** Writes docs/BENCHMARKS.md and docs/benchmarks.svg; returns their paths. */
export async function writeReport(results: BenchResults): Promise<string[]> {
  const docs = join(repoRoot(), 'docs');
  const mdPath = join(docs, 'BENCHMARKS.md');
  const svgPath = join(docs, 'benchmarks.svg');
  const preserved = await preservedSection(mdPath);
  await writeFile(mdPath, await markdown(results, mdPath, preserved));
  await writeFile(svgPath, chart(results));
  return [mdPath, svgPath];
}
