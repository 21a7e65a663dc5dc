import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsString,
  Matches,
  MinLength,
  validateSync,
  type ValidationArguments,
} from 'class-validator';
import { ConfigError } from './config-error.js';
import { Env, envVariables } from './env.decorator.js';
import {
  ClientList,
  CommaList,
  HostPortList,
  MailAddress,
  MailUrl,
  OffOrHops,
  OnOff,
  Origin,
  OriginList,
  Trimmed,
  UrlWithScheme,
  WholeNumber,
  type IntrospectionClient,
  type RedisNode,
} from './env-values.js';
import type { MailTransportConfig } from './mail-url.js';

const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const YEAR_SECONDS = 31_536_000;

/**
 * OWASP's Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory, 2 iterations
 * and 1 degree of parallelism. Lower values are refused, not clamped.
 */
const OWASP_ARGON2_MEMORY_KIB = 19_456;
const OWASP_ARGON2_ITERATIONS = 2;
const owaspFloor =
  (min: number, unit = '') =>
  ({ value }: ValidationArguments) =>
    `must be at least ${min}${unit} (OWASP's floor for argon2id), got ${String(value)}`;

const NODE_EXAMPLE = 'redis-1:6379 or 10.0.0.5:7000';

const SENTINEL_NAME_RULE =
  'must name the master the sentinels watch (letters, digits, "_", "." or "-") when REDIS_SENTINELS is set';

const ADMIN_DOC =
  'when both are set, the account is created with the `admin` role at boot if it does not exist (an existing password is never changed)';

/**
 * Every environment variable the service reads, each property named as its variable. The
 * README's configuration table is rendered from the `@Env` docs (`npm run config:table`).
 */
export class EnvironmentVariables {
  @Env({ default: '3000', doc: 'HTTP port' })
  @WholeNumber(0, 65_535)
  PORT!: number;

  @Env({
    doc: '`production` makes `SESSION_SECRET`, `DATABASE_URL` and a Redis setting (`REDIS_URL`, `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`) required, and, unless `MAIL=off`, an `smtp://` or `smtps://` `MAIL_URL`, `MAIL_FROM` and `PUBLIC_URL`',
  })
  @IsString()
  NODE_ENV?: string;

  @Env({
    doc: '`postgres://` or `postgresql://` URL of the accounts database. Without it (development only): the embedded PGlite, with one warning that it serves a single process',
  })
  @UrlWithScheme('postgres', 'postgresql')
  DATABASE_URL?: string;

  @Env({
    default: '10',
    doc: 'connections per instance; only with `DATABASE_URL`',
  })
  @WholeNumber(1, 1000)
  DATABASE_POOL_MAX!: number;

  @Env({
    default: '.data/pglite',
    doc: 'where the embedded PGlite keeps its data (gitignored); only without `DATABASE_URL`',
  })
  @IsString()
  DATABASE_DIR!: string;

  @Env({
    default: 'on',
    doc: 'apply pending migrations at boot under an advisory lock; `off` leaves them to `npm run db:migrate`',
  })
  @OnOff()
  DATABASE_MIGRATE!: boolean;

  @Env({
    doc: '`redis://` or `rediss://` URL. With none of this, `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS` (development only): embedded in-process store (ioredis-mock, a development dependency, so not in a production install), with a warning that data is lost on restart and not shared',
  })
  @UrlWithScheme('redis', 'rediss')
  REDIS_URL?: string;

  @Env({
    doc: 'Redis Cluster seed nodes, comma-separated `host:port` (e.g. `redis-1:6379,redis-2:6379`); use instead of `REDIS_URL`, never with it. In production one Redis setting is required',
  })
  @HostPortList(NODE_EXAMPLE)
  REDIS_CLUSTER_NODES?: RedisNode[];

  @Env({
    doc: 'Redis Sentinel addresses, comma-separated `host:port` (e.g. `sentinel-1:26379,sentinel-2:26379`); the client asks them for the master and asks again after a failover. Use instead of `REDIS_URL` or `REDIS_CLUSTER_NODES`, never with either; needs `REDIS_SENTINEL_NAME`',
  })
  @HostPortList(NODE_EXAMPLE)
  REDIS_SENTINELS?: RedisNode[];

  @Env({
    doc: 'name of the master the sentinels watch (e.g. `mymaster`); only with `REDIS_SENTINELS`',
  })
  @Trimmed()
  @Matches(/^[A-Za-z0-9_.-]{1,128}$/, { message: SENTINEL_NAME_RULE })
  REDIS_SENTINEL_NAME?: string;

  @Env({
    note: 'random, with a warning',
    doc: 'cookie-signing secrets, comma-separated, 32+ characters each; the first signs, all verify (rotation)',
  })
  @CommaList()
  @MinLength(32, {
    each: true,
    message: 'must hold secrets of at least 32 characters each',
  })
  SESSION_SECRET?: string[];

  @Env({ default: 'session', doc: 'session cookie name' })
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, {
    message: 'must be 1-64 letters, digits, "_", "." or "-"',
  })
  SESSION_COOKIE_NAME!: string;

  @Env({ default: '900', doc: 'idle timeout; sliding with activity' })
  @WholeNumber(1, YEAR_SECONDS)
  SESSION_IDLE_SECONDS!: number;

  @Env({
    default: '43200',
    doc: 'a login ends this long after it began, whatever the activity',
  })
  @WholeNumber(1, YEAR_SECONDS)
  SESSION_ABSOLUTE_SECONDS!: number;

  @Env({ default: '3600', doc: 'access-token lifetime (`expires_in`)' })
  @WholeNumber(1, YEAR_SECONDS)
  TOKEN_TTL_SECONDS!: number;

  @Env({
    default: '2592000',
    note: '30 days',
    doc: "a login's refresh tokens end this long after the login, however often they rotate",
  })
  @WholeNumber(1, YEAR_SECONDS)
  REFRESH_TOKEN_ABSOLUTE_SECONDS!: number;

  @Env({
    default: '1209600',
    note: '14 days',
    doc: 'a refresh token unused this long ends',
  })
  @WholeNumber(1, YEAR_SECONDS)
  REFRESH_TOKEN_IDLE_SECONDS!: number;

  @Env({
    default: '10',
    doc: 'for this long after a rotation, the old refresh token gets the same successor pair back (a lost answer, two tabs); later it is a reuse and ends the login. `0` turns the grace off',
  })
  @WholeNumber(0, 300)
  REFRESH_REUSE_GRACE_SECONDS!: number;

  @Env({
    default: '50',
    doc: 'most live personal access tokens an account may hold; one more is a 400 naming the limit',
  })
  @WholeNumber(1, 10_000)
  PERSONAL_TOKENS_PER_USER!: number;

  @Env({
    default: '1800',
    doc: 'how long a password-reset link works (30 minutes by default); it works once, and a newer link ends the older ones',
  })
  @WholeNumber(1, 86_400)
  PASSWORD_RESET_TTL_SECONDS!: number;

  @Env({
    doc: 'resource servers allowed to call `POST /auth/introspect`, comma-separated `id:secret` (secrets of 16+ characters), sent with HTTP Basic',
  })
  @ClientList()
  INTROSPECTION_CLIENTS?: IntrospectionClient[];

  @Env({
    note: "the request's origin",
    doc: "the service's public origin, e.g. `https://auth.example.com`: the OAuth2 `issuer`, the endpoints in the discovery document, and every link in mail (never the request's `Host`; in development without it, `http://localhost:PORT`)",
  })
  @Origin('https://auth.example.com')
  PUBLIC_URL?: string;

  @Env({
    default: 'off',
    doc: 'number of proxy hops to trust for the client address and `X-Forwarded-Proto`',
  })
  @OffOrHops(32)
  TRUST_PROXY!: number | false;

  @Env({
    doc: 'extra origins (comma-separated) allowed to send cookie-authenticated writes',
  })
  @OriginList('https://app.example.com')
  ALLOWED_ORIGINS?: string[];

  @Env({
    note: 'CORS off',
    doc: 'exact origins allowed by CORS, with credentials; never a wildcard',
  })
  @OriginList('https://app.example.com')
  CORS_ORIGINS?: string[];

  @Env({
    default: '5',
    doc: 'login attempts per account, failed or still being checked, before each further attempt must wait (1 s, 2 s, 4 s … 15 min); each attempt is reserved atomically before its password is hashed, so parallel guesses cannot slip through; a right password gives its reservation back',
  })
  @WholeNumber(1, 1_000_000)
  LOGIN_FREE_FAILURES_PER_ACCOUNT!: number;

  @Env({
    default: '20',
    doc: 'the same per client address (password spraying)',
  })
  @WholeNumber(1, 1_000_000)
  LOGIN_FREE_FAILURES_PER_ADDRESS!: number;

  @Env({ default: '900', doc: 'how long failures are remembered' })
  @WholeNumber(1, 86_400)
  LOGIN_FAILURE_WINDOW_SECONDS!: number;

  @Env({
    default: '2000',
    doc: 'the longest a login (or any password hash) waits for a hashing thread; past it the request gets `503 overloaded` with `Retry-After` at once, and the throttle counts nothing',
  })
  @WholeNumber(1, 60_000)
  LOGIN_MAX_WAIT_MS!: number;

  @Env({
    default: String(OWASP_ARGON2_MEMORY_KIB),
    note: '19 MiB',
    doc: `argon2id memory per hash; values under OWASP's floor of ${OWASP_ARGON2_MEMORY_KIB} are refused at boot`,
  })
  @WholeNumber(OWASP_ARGON2_MEMORY_KIB, 4_194_304, {
    belowMin: owaspFloor(OWASP_ARGON2_MEMORY_KIB, ' KiB'),
  })
  PASSWORD_HASH_MEMORY_KIB!: number;

  @Env({
    default: String(OWASP_ARGON2_ITERATIONS),
    doc: `argon2id iterations; under OWASP's floor of ${OWASP_ARGON2_ITERATIONS} is refused at boot. Stored hashes weaker than the configured cost are rehashed at their next login`,
  })
  @WholeNumber(OWASP_ARGON2_ITERATIONS, 1000, {
    belowMin: owaspFloor(OWASP_ARGON2_ITERATIONS),
  })
  PASSWORD_HASH_ITERATIONS!: number;

  // One row in the README: the same doc for both.
  @Env({ doc: ADMIN_DOC })
  @IsString()
  ADMIN_USERNAME?: string;

  @Env({ doc: ADMIN_DOC })
  @IsString()
  ADMIN_PASSWORD?: string;

  @Env({
    default: 'on',
    doc: 'the security-event record (`security_events` in PostgreSQL, one log line each); `off` records nothing, for comparing its cost',
  })
  @OnOff()
  SECURITY_EVENTS!: boolean;

  @Env({
    default: '10000',
    doc: 'security events held in memory while PostgreSQL cannot take them; past this many, new ones are dropped and counted (`auth_security_events_dropped_total`)',
  })
  @WholeNumber(1, 1_000_000)
  SECURITY_EVENTS_BUFFER!: number;

  @Env({
    default: '90',
    doc: 'security events older than this many days are deleted, in small batches, by one instance at a time',
  })
  @WholeNumber(1, 36_500)
  SECURITY_EVENTS_RETENTION_DAYS!: number;

  @Env({
    default: 'info',
    doc: LOG_LEVELS.map((level) => `\`${level}\``).join(' '),
  })
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL!: LogLevel;

  @Env({
    note: '`pretty` when stdout is a terminal and `NODE_ENV` is not `production`, else `json`',
    doc: '`json`: one JSON object a line, for log collectors; `pretty`: readable lines for a person',
  })
  @IsIn(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}` })
  LOG_FORMAT?: LogFormat;

  @Env({
    default: 'on',
    doc: 'Prometheus metrics; `off` removes `/metrics` and all request and Redis command timing',
  })
  @OnOff()
  METRICS!: boolean;

  @Env({
    note: 'served on `PORT`, to admins',
    doc: 'serve `/metrics` on this port instead, **without authentication**, and answer 404 for it on `PORT`. Keep this port on a private network, never exposed publicly; must differ from `PORT`',
  })
  @WholeNumber(1, 65_535)
  METRICS_PORT?: number;

  @Env({
    default: 'on',
    doc: '`off` turns every mail feature off (their routes answer 404) and needs no other `MAIL_` setting',
  })
  @OnOff()
  MAIL!: boolean;

  @Env({
    default: 'file:.data/mail',
    doc: 'where mail goes: `smtp://user:password@host:587` (STARTTLS, required when there is a login and the host is not this machine), `smtps://user:password@host:465` (TLS), or, in development only, `file:DIR` (each message an `.eml` file, its links also logged; `.data/` is gitignored) or `console:` (the log). The password is never logged',
  })
  @MailUrl()
  MAIL_URL!: MailTransportConfig;

  @Env({
    note: '`no-reply@localhost`',
    doc: "the sender's address, e.g. `no-reply@auth.example.com`; the display name is `SERVICE_NAME`. Required in production while `MAIL` is on",
  })
  @MailAddress()
  MAIL_FROM?: string;

  @Env({
    default: 'Auth',
    doc: "the service's name, in the subject of every mail and as the sender's display name",
  })
  @Trimmed()
  @Matches(/^[^\p{Cc}]{1,64}$/u, {
    message: 'must be 1-64 characters, none of them a control character',
  })
  SERVICE_NAME!: string;

  @Env({
    default: '86400',
    note: '24 hours',
    doc: 'a mail that cannot be delivered is retried, with exponential backoff, for this long after it was queued, then marked failed',
  })
  @WholeNumber(1, 604_800)
  MAIL_RETRY_FOR_SECONDS!: number;

  @Env({
    default: '30000',
    doc: 'wait before the first retry; each further one waits twice as long as the one before, at most an hour',
  })
  @WholeNumber(10, 3_600_000)
  MAIL_RETRY_BASE_MS!: number;

  @Env({
    default: '86400',
    note: '24 hours',
    doc: 'how long a link that verifies an email address works (registration, a change, a resend); a newer link ends the older ones',
  })
  @WholeNumber(300, 604_800)
  EMAIL_VERIFICATION_TTL_SECONDS!: number;
}

export type RawEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The rules that span variables; `raw` tells a variable set from one at its default. The
 * first broken rule is reported.
 */
function crossFieldProblem(
  vars: EnvironmentVariables,
  raw: RawEnvironment,
): [variable: string, problem: string] | undefined {
  const production = vars.NODE_ENV === 'production';
  const redis = (
    ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const
  ).filter((name) => vars[name] !== undefined);
  const rules: [broken: unknown, variable: string, problem: string][] = [
    [
      vars.REDIS_SENTINELS && !vars.REDIS_SENTINEL_NAME,
      'REDIS_SENTINEL_NAME',
      SENTINEL_NAME_RULE,
    ],
    [
      !vars.REDIS_SENTINELS && vars.REDIS_SENTINEL_NAME,
      'REDIS_SENTINEL_NAME',
      'is set without REDIS_SENTINELS',
    ],
    [
      redis.length > 1,
      redis.join(' and '),
      `are ${redis.length === 2 ? 'both' : 'all'} set; set only one of them`,
    ],
    [
      production && redis.length === 0,
      'REDIS_URL',
      'or REDIS_CLUSTER_NODES or REDIS_SENTINELS is required when NODE_ENV=production',
    ],
    [
      production && !vars.SESSION_SECRET?.length,
      'SESSION_SECRET',
      'is required when NODE_ENV=production',
    ],
    [
      production && !vars.DATABASE_URL,
      'DATABASE_URL',
      'is required when NODE_ENV=production',
    ],
    [
      !vars.DATABASE_URL && raw.DATABASE_POOL_MAX,
      'DATABASE_POOL_MAX',
      'is set without DATABASE_URL',
    ],
    [
      vars.DATABASE_URL && raw.DATABASE_DIR,
      'DATABASE_DIR',
      'is set together with DATABASE_URL',
    ],
    [
      !vars.METRICS && vars.METRICS_PORT !== undefined,
      'METRICS_PORT',
      'is set while METRICS is off',
    ],
    [vars.METRICS_PORT === vars.PORT, 'METRICS_PORT', 'must differ from PORT'],
    [!vars.MAIL && raw.MAIL_URL, 'MAIL_URL', 'is set while MAIL is off'],
    [
      production && vars.MAIL && vars.MAIL_URL.kind !== 'smtp',
      'MAIL_URL',
      'must be an smtp:// or smtps:// URL when NODE_ENV=production (or set MAIL=off)',
    ],
    [
      production && vars.MAIL && !vars.MAIL_FROM,
      'MAIL_FROM',
      'is required when NODE_ENV=production and MAIL is on',
    ],
    [
      production && vars.MAIL && !vars.PUBLIC_URL,
      'PUBLIC_URL',
      'is required when NODE_ENV=production and MAIL is on: links in mail are made from it',
    ],
  ];
  const broken = rules.find(([isBroken]) => isBroken);
  return broken && [broken[1], broken[2]];
}

/** Reads and checks every declared variable; throws a ConfigError naming the first bad one. */
export function validateEnvironment(raw: RawEnvironment): EnvironmentVariables {
  // An empty variable counts as unset, so an env file may list one blank.
  const withDefaults = Object.fromEntries(
    envVariables(EnvironmentVariables).map((v) => [
      v.name,
      raw[v.name] || v.default,
    ]),
  );
  const vars = plainToInstance(EnvironmentVariables, withDefaults);
  const [error] = validateSync(vars, { stopAtFirstError: true });
  if (error)
    throw new ConfigError(
      error.property,
      Object.values(error.constraints ?? {})[0],
    );
  const problem = crossFieldProblem(vars, raw);
  if (problem) throw new ConfigError(...problem);
  return vars;
}
