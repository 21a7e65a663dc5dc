import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchDatabase } from './bench-postgres.js';
import type { BenchRedis } from './bench-redis.js';
import {
  answers,
  freePort,
  repoRoot,
  startChild,
  waitUntil,
  type Child,
} from './processes.js';

/** Long and uncommon enough for the service's password policy. */
const BENCH_PASSWORD = 'bench passphrase, long enough 4711';
/** The reference app knows this one user; the service gets it registered. */
const BENCH_USERNAME = 'bench-user';

/** The service uses database 0, the reference app database 1 of the same Redis. */
export const SERVICE_DATABASE = 0;
const REFERENCE_DATABASE = 1;

export interface Server {
  child: Child;
  base: string;
}

export interface ServiceCredentials {
  /** `session=...`, ready for a Cookie header. */
  cookie: string;
  token: string;
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The built service (dist/main.js) as production runs it; `nodeFlags` e.g. for --cpu-prof,
 * `env` for settings of a variant (SECURITY_EVENTS=off).
 */
export async function startService(
  redis: BenchRedis,
  database: BenchDatabase,
  nodeFlags: string[] = [],
  env: Record<string, string> = {},
): Promise<Server> {
  const port = await freePort();
  const child = await startChild(
    'service',
    process.execPath,
    [...nodeFlags, join(repoRoot(), 'dist', 'main.js')],
    {
      PORT: String(port),
      REDIS_URL: redis.url(SERVICE_DATABASE),
      // Authenticated reads query no database; logins and /health do.
      ...(database.url
        ? { DATABASE_URL: database.url }
        : {
            DATABASE_URL: '',
            DATABASE_DIR: mkdtempSync(join(tmpdir(), 'bench-pglite-')),
          }),
      SESSION_SECRET: newSecret(),
      // Request logging off: the benchmark measures auth, not log serialisation.
      LOG_LEVEL: 'warn',
      // Every login comes from 127.0.0.1 to one account, many at once (16 connections, and the
      // flood's 60). The throttle counts each login in flight against the account's free
      // failures, so its limits are lifted: the benchmark measures hashing and the login's
      // writes, not the throttle. The login queue's wait limit keeps its default.
      LOGIN_FREE_FAILURES_PER_ACCOUNT: '1000000',
      LOGIN_FREE_FAILURES_PER_ADDRESS: '1000000',
      METRICS: 'on',
      ...env,
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(child, 'answering GET /health', () =>
    answers(`${base}/health`, 200),
  );
  return { child, base };
}

/** bench/reference-app.ts: the hand-written express-session stack the service is compared with. */
export async function startReferenceApp(redis: BenchRedis): Promise<Server> {
  const port = await freePort();
  const script = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    'reference-app.js',
  );
  const child = await startChild('reference app', process.execPath, [script], {
    PORT: String(port),
    REDIS_URL: redis.url(REFERENCE_DATABASE),
    SESSION_SECRET: newSecret(),
    BENCH_USERNAME,
    BENCH_PASSWORD,
  });
  const base = `http://127.0.0.1:${port}`;
  // It listens only once the user's password hash is ready; until a login, /me answers 401.
  await waitUntil(child, 'answering GET /me', () => answers(`${base}/me`, 401));
  return { child, base };
}

function postJson(url: string, body: object): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function expectStatus(
  what: string,
  res: Response,
  status: number,
): Promise<void> {
  if (res.status === status) return;
  throw new Error(
    `${what} answered ${res.status}, expected ${status}: ${await res.text()}`,
  );
}

function cookieNamed(res: Response, name: string): string {
  const cookie = res.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .find((pair) => pair.startsWith(`${name}=`));
  if (!cookie) throw new Error(`the login set no ${name} cookie`);
  return cookie;
}

/** The JSON body of the service's password grant, as a client sends it. */
export function tokenRequestBody(): object {
  return {
    grant_type: 'password',
    username: BENCH_USERNAME,
    password: BENCH_PASSWORD,
  };
}

export function referenceLoginBody(): object {
  return { username: BENCH_USERNAME, password: BENCH_PASSWORD };
}

/** Registers the bench user on the service and logs in once: a session cookie and a token. */
export async function serviceCredentials(
  base: string,
): Promise<ServiceCredentials> {
  const registered = await postJson(`${base}/auth/register`, {
    username: BENCH_USERNAME,
    password: BENCH_PASSWORD,
  });
  await expectStatus('POST /auth/register', registered, 201);
  const login = await postJson(`${base}/auth/token`, tokenRequestBody());
  await expectStatus('POST /auth/token', login, 200);
  const { access_token: token } = (await login.json()) as {
    access_token: string;
  };
  return { cookie: cookieNamed(login, 'session'), token };
}

/** Logs in to the reference app: its `connect.sid=...` cookie. */
export async function referenceCookie(base: string): Promise<string> {
  const login = await postJson(`${base}/login`, referenceLoginBody());
  await expectStatus('POST /login (reference)', login, 200);
  await login.body?.cancel();
  return cookieNamed(login, 'connect.sid');
}
