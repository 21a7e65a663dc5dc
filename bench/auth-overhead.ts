/**
 * What authentication costs per request: requests/second of GET /admin/me through a session
 * cookie and through a bearer token, side by side with GET /health (public, one Redis PING)
 * as the baseline, plus the Redis commands each variant issues per request.
 *
 * The parent process boots the real app (createApp, real Redis, database 15) on 127.0.0.1:0;
 * a child process generates the load, so client and server do not share one event loop.
 * Rounds interleave the variants in rotating order so machine noise hits all of them alike.
 *
 *   npm run bench            (REDIS_URL, BENCH_ROUNDS, BENCH_REQUESTS, BENCH_CONCURRENCY optional)
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.setup.js';
import { loadConfig } from '../src/config/app-config.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Requests per variant for counting Redis commands; the count is repeated and the minimum kept. */
const COUNT_REQUESTS = 200;
const COUNT_REPEATS = 3;

interface Variant {
  name: 'baseline' | 'session' | 'bearer';
  path: string;
  headers: Record<string, string>;
}

interface ClientSetup {
  base: string;
  cookie: string;
  token: string;
}

interface Report {
  rounds: Record<Variant['name'], number>[];
  commandsPerRequest: Record<Variant['name'], number>;
  commandBreakdown: Record<Variant['name'], Record<string, number>>;
}

// ---------------------------------------------------------------------------------------------
// Load generator (child process)

function variants(setup: ClientSetup): Variant[] {
  return [
    { name: 'baseline', path: '/health', headers: {} },
    { name: 'session', path: '/admin/me', headers: { Cookie: setup.cookie } },
    {
      name: 'bearer',
      path: '/admin/me',
      headers: { Authorization: `Bearer ${setup.token}` },
    },
  ];
}

function get(agent: Agent, base: string, variant: Variant): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${variant.path}`,
      { agent, headers: variant.headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Sends `total` requests over `CONCURRENCY` keep-alive connections; returns requests/second. */
async function burst(
  agent: Agent,
  base: string,
  variant: Variant,
  total: number,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      next++;
      const status = await get(agent, base, variant);
      if (status !== 200)
        throw new Error(`${variant.name}: ${variant.path} answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return total / seconds;
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

/**
 * Redis commands per request, from INFO commandstats around a fixed number of requests. The
 * stats are server-wide, so other clients can only add to a count: the lowest of a few
 * repeats is kept. INFO itself is left out.
 */
async function commandsPerRequest(
  redis: Redis,
  agent: Agent,
  base: string,
  variant: Variant,
): Promise<{ perRequest: number; breakdown: Record<string, number> }> {
  let best:
    { perRequest: number; breakdown: Record<string, number> } | undefined;
  for (let i = 0; i < COUNT_REPEATS; i++) {
    const before = await commandStats(redis);
    await burst(agent, base, variant, COUNT_REQUESTS);
    const after = await commandStats(redis);
    const breakdown: Record<string, number> = {};
    let total = 0;
    for (const [command, calls] of after) {
      if (command === 'info') continue;
      const delta = calls - (before.get(command) ?? 0);
      if (delta > 0) {
        breakdown[command] = delta / COUNT_REQUESTS;
        total += delta;
      }
    }
    const perRequest = total / COUNT_REQUESTS;
    if (!best || perRequest < best.perRequest) best = { perRequest, breakdown };
  }
  return best!;
}

async function runClient(setup: ClientSetup): Promise<Report> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const all = variants(setup);
  // Warm-up: JIT, connection pool, Redis connection.
  for (const variant of all) await burst(agent, setup.base, variant, 500);
  const rounds: Report['rounds'] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const result = {} as Record<Variant['name'], number>;
    // Rotate the order each round, so no variant always runs first or last.
    for (let i = 0; i < all.length; i++) {
      const variant = all[(round + i) % all.length];
      result[variant.name] = await burst(agent, setup.base, variant, REQUESTS);
    }
    rounds.push(result);
  }
  const redis = new Redis(REDIS_URL);
  const commandsPerRequestByVariant = {} as Report['commandsPerRequest'];
  const commandBreakdown = {} as Report['commandBreakdown'];
  for (const variant of all) {
    const counted = await commandsPerRequest(redis, agent, setup.base, variant);
    commandsPerRequestByVariant[variant.name] = counted.perRequest;
    commandBreakdown[variant.name] = counted.breakdown;
  }
  await redis.quit();
  agent.destroy();
  return {
    rounds,
    commandsPerRequest: commandsPerRequestByVariant,
    commandBreakdown,
  };
}

// ---------------------------------------------------------------------------------------------
// Server and report (parent process)

const PASSWORD = 'bench passphrase, long enough 4711';

async function post(
  base: string,
  path: string,
  body: Record<string, string>,
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function printReport(report: Report): void {
  const names = ['baseline', 'session', 'bearer'] as const;
  const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(8);
  console.log(
    `\nGET /health (baseline) vs GET /admin/me by session cookie and by bearer token`,
  );
  console.log(
    `${ROUNDS} interleaved rounds x ${REQUESTS} requests per variant, ${CONCURRENCY} keep-alive connections\n`,
  );
  console.log('round   baseline  session   bearer   (requests/second)');
  report.rounds.forEach((round, i) =>
    console.log(
      `${String(i + 1).padStart(5)} ${names.map((n) => fmt(round[n])).join(' ')}`,
    ),
  );
  const med = (name: (typeof names)[number]) =>
    median(report.rounds.map((r) => r[name]));
  console.log(`median ${names.map((n) => fmt(med(n))).join(' ')}\n`);
  // Ratios per round, then the median: noise common to a round cancels out.
  const ratio = (name: 'session' | 'bearer') =>
    median(report.rounds.map((r) => r[name] / r.baseline));
  console.log(`session / baseline: ${ratio('session').toFixed(2)}`);
  console.log(`bearer  / baseline: ${ratio('bearer').toFixed(2)}\n`);
  console.log(
    'Redis commands per request (INFO commandstats, lowest of 3 x 200 requests):',
  );
  for (const name of names) {
    const breakdown = Object.entries(report.commandBreakdown[name])
      .map(([cmd, n]) => `${cmd} ${n.toFixed(2)}`)
      .join(', ');
    console.log(
      `  ${name.padEnd(8)} ${report.commandsPerRequest[name].toFixed(2)}  (${breakdown})`,
    );
  }
}

async function runServer(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    REDIS_URL,
    LOG_LEVEL: 'silent',
    // Database 15 is shared with the tests, whose failed logins all come from 127.0.0.1.
    LOGIN_FREE_FAILURES_PER_ADDRESS:
      process.env.LOGIN_FREE_FAILURES_PER_ADDRESS ?? '100000',
    SESSION_SECRET:
      process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  try {
    const username = `bench-${randomBytes(5).toString('hex')}`;
    const registered = await post(base, '/auth/register', {
      username,
      password: PASSWORD,
    });
    if (registered.status !== 201)
      throw new Error(`register answered ${registered.status}`);
    const loggedIn = await post(base, '/auth/token', {
      grant_type: 'password',
      username,
      password: PASSWORD,
    });
    if (loggedIn.status !== 200)
      throw new Error(`login answered ${loggedIn.status}`);
    const token = ((await loggedIn.json()) as { access_token: string })
      .access_token;
    const cookie = loggedIn.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${config.sessionCookieName}=`))
      ?.split(';')[0];
    if (!cookie) throw new Error('login set no session cookie');

    const child = fork(process.argv[1], ['client'], {
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.send({ base, cookie, token } satisfies ClientSetup);
    const report = await new Promise<Report>((resolve, reject) => {
      child.once('message', (message) => resolve(message as Report));
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`load generator exited with ${code}`)),
      );
    });
    printReport(report);
  } finally {
    await app.close();
  }
}

if (process.argv[2] === 'client') {
  process.once('message', (setup: ClientSetup) => {
    runClient(setup)
      .then((report) => process.send!(report, () => process.exit(0)))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  });
} else {
  runServer().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
