import { randomBytes } from 'node:crypto';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

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

/** The whole runtime configuration, parsed once at boot. Nothing else reads `process.env`. */
export class AppConfig {
  readonly production!: boolean;
  readonly port!: number;
  /** Undefined (and no cluster) means the embedded in-process store (development only). */
  readonly redisUrl?: string;
  /** Seed nodes of a Redis Cluster; set instead of `redisUrl`, never together with it. */
  readonly redisClusterNodes?: RedisNode[];
  /** Redis Sentinel: the sentinels to ask, and the name of the master they watch. */
  readonly redisSentinels?: { nodes: RedisNode[]; masterName: string };
  /** The accounts database: PostgreSQL, or the embedded PGlite in a directory (development only). */
  readonly database!: DatabaseConfig;
  /** The first signs new cookies; every one verifies, so a secret can be rotated. */
  readonly sessionSecrets!: string[];
  readonly sessionCookieName!: string;
  readonly sessionIdleSeconds!: number;
  readonly sessionAbsoluteSeconds!: number;
  readonly tokenTtlSeconds!: number;
  /** A login's refresh tokens end this long after the login, however often they rotate. */
  readonly refreshTokenAbsoluteSeconds!: number;
  /** A refresh token unused this long ends. */
  readonly refreshTokenIdleSeconds!: number;
  /** How long after a rotation the old refresh token still gets the same successor pair. */
  readonly refreshReuseGraceSeconds!: number;
  /** Resource servers allowed to call the introspection endpoint (HTTP Basic). */
  readonly introspectionClients!: IntrospectionClient[];
  /** The service's public origin, the OAuth2 issuer; undefined means the request's own origin. */
  readonly publicUrl?: string;
  /** Number of proxy hops to trust for client address and protocol; false when off. */
  readonly trustProxy!: number | false;
  readonly logLevel!: LogLevel;
  /** `pretty` for a person at a terminal, `json` (one object a line) for log collectors. */
  readonly logFormat!: LogFormat;
  /** Origins besides this service's own that may send cookie-authenticated writes (CSRF allow list). */
  readonly allowedOrigins!: string[];
  /** Origins allowed by CORS; empty means CORS is off. Always an exact list, never a wildcard. */
  readonly corsOrigins!: string[];
  /** Failed logins per account, and per client address, before each further attempt must wait. */
  readonly loginFreeFailuresPerAccount!: number;
  readonly loginFreeFailuresPerAddress!: number;
  /** How long failed logins are remembered. */
  readonly loginFailureWindowSeconds!: number;
  /** The longest a login (or any password hash) waits for a hashing turn before a 503. */
  readonly loginMaxWaitMs!: number;
  /** argon2id cost of new hashes; weaker stored hashes are remade at their next login. */
  readonly passwordHash!: PasswordHashConfig;
  /** The most live personal access tokens one account may hold. */
  readonly personalTokensPerUser!: number;
  readonly adminUsername?: string;
  readonly adminPassword?: string;
  /** Prometheus metrics: off, on the main port for admins, or on a port of their own without auth. */
  readonly metrics!: MetricsConfig;
  /** Boot-time notes for the log: insecure development defaults in use. */
  readonly warnings!: string[];

  constructor(values: AppConfig) {
    Object.assign(this, values);
  }
}

export interface IntrospectionClient {
  id: string;
  secret: string;
}

export type DatabaseConfig = (
  | { kind: 'postgres'; url: string; poolMax: number }
  | { kind: 'pglite'; dir: string }
) & {
  /** Apply pending migrations at boot (DATABASE_MIGRATE=on), or leave them to `npm run db:migrate`. */
  migrate: boolean;
};

export interface PasswordHashConfig {
  memoryKib: number;
  iterations: number;
}

export type MetricsConfig =
  { enabled: false } | { enabled: true; port?: number };

/** One `host:port` of REDIS_CLUSTER_NODES or REDIS_SENTINELS. */
export interface RedisNode {
  host: string;
  port: number;
}

type Env = Record<string, string | undefined>;

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw))
    throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function trustProxy(env: Env): number | false {
  const raw = env.TRUST_PROXY;
  if (
    raw === undefined ||
    raw === '' ||
    raw === 'false' ||
    raw === 'off' ||
    raw === '0'
  )
    return false;
  if (raw === 'true') return 1;
  if (!/^\d+$/.test(raw))
    throw new ConfigError('TRUST_PROXY', 'must be off or a hop count');
  return integer(env, 'TRUST_PROXY', 0, 1, 32);
}

function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
    .map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new ConfigError(
          name,
          `holds "${o}", which is not an origin such as https://app.example.com`,
        );
      }
      if (
        (url.protocol !== 'http:' && url.protocol !== 'https:') ||
        url.origin !== o.replace(/\/$/, '')
      ) {
        throw new ConfigError(
          name,
          `holds "${o}", which is not an origin such as https://app.example.com`,
        );
      }
      return url.origin;
    });
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  return raw;
}

const CLUSTER_NODE_EXAMPLE = 'such as redis-1:6379 or 10.0.0.5:7000';

/** A comma-separated `host:port` list (IPv6 hosts in brackets); empty means unset. */
function redisNodes(env: Env, name: string): RedisNode[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const entries = raw
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  if (entries.length === 0)
    throw new ConfigError(
      name,
      `must list host:port nodes, ${CLUSTER_NODE_EXAMPLE}`,
    );
  return entries.map((entry) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(
      entry,
    );
    const port = match ? Number(match[3]) : 0;
    if (!match || port < 1 || port > 65535)
      throw new ConfigError(
        name,
        `holds "${entry}", which is not a host:port ${CLUSTER_NODE_EXAMPLE}`,
      );
    return { host: match[1] ?? match[2], port };
  });
}

function redisSentinels(env: Env): AppConfig['redisSentinels'] {
  const nodes = redisNodes(env, 'REDIS_SENTINELS');
  const masterName = env.REDIS_SENTINEL_NAME?.trim() ?? '';
  if (!nodes) {
    if (masterName)
      throw new ConfigError(
        'REDIS_SENTINEL_NAME',
        'is set without REDIS_SENTINELS',
      );
    return undefined;
  }
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(masterName))
    throw new ConfigError(
      'REDIS_SENTINEL_NAME',
      'must name the master the sentinels watch (letters, digits, "_", "." or "-") when REDIS_SENTINELS is set',
    );
  return { nodes, masterName };
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be on or off, got "${env[name]}"`);
}

function database(
  env: Env,
  production: boolean,
  warnings: string[],
): DatabaseConfig {
  const migrate = onOff(env, 'DATABASE_MIGRATE', true);
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') {
    if (production)
      throw new ConfigError(
        'DATABASE_URL',
        'is required when NODE_ENV=production',
      );
    if (env.DATABASE_POOL_MAX)
      throw new ConfigError('DATABASE_POOL_MAX', 'is set without DATABASE_URL');
    const dir = env.DATABASE_DIR || '.data/pglite';
    warnings.push(
      `DATABASE_URL is not set: accounts are kept in the embedded PGlite under ${dir}, which serves a single process; run one instance only.`,
    );
    return { kind: 'pglite', dir, migrate };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new ConfigError(
      'DATABASE_URL',
      'must start with postgres:// or postgresql://',
    );
  if (env.DATABASE_DIR)
    throw new ConfigError('DATABASE_DIR', 'is set together with DATABASE_URL');
  return {
    kind: 'postgres',
    url: raw,
    poolMax: integer(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    migrate,
  };
}

/** METRICS: on (default) or off; METRICS_PORT: serve /metrics there, unauthenticated, instead of on PORT to admins. */
function metrics(env: Env): MetricsConfig {
  const raw = (env.METRICS ?? '').trim().toLowerCase();
  if (raw === 'off' || raw === 'false' || raw === '0') {
    if (env.METRICS_PORT)
      throw new ConfigError('METRICS_PORT', 'is set while METRICS is off');
    return { enabled: false };
  }
  if (raw !== '' && raw !== 'on' && raw !== 'true' && raw !== '1')
    throw new ConfigError('METRICS', `must be on or off, got "${env.METRICS}"`);
  if (!env.METRICS_PORT) return { enabled: true };
  const port = integer(env, 'METRICS_PORT', 0, 1, 65535);
  if (port === integer(env, 'PORT', 3000, 0, 65535))
    throw new ConfigError('METRICS_PORT', 'must differ from PORT');
  return { enabled: true, port };
}

/**
 * OWASP's Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory, 2 iterations
 * and 1 degree of parallelism. Lower values are refused, not clamped.
 */
const OWASP_ARGON2_MEMORY_KIB = 19_456;
const OWASP_ARGON2_ITERATIONS = 2;

function passwordHash(env: Env): PasswordHashConfig {
  const floor = (name: string, value: number, min: number, unit: string) => {
    if (value < min)
      throw new ConfigError(
        name,
        `must be at least ${min}${unit} (OWASP's floor for argon2id), got ${value}`,
      );
    return value;
  };
  return {
    memoryKib: floor(
      'PASSWORD_HASH_MEMORY_KIB',
      integer(
        env,
        'PASSWORD_HASH_MEMORY_KIB',
        OWASP_ARGON2_MEMORY_KIB,
        0,
        4_194_304,
      ),
      OWASP_ARGON2_MEMORY_KIB,
      ' KiB',
    ),
    iterations: floor(
      'PASSWORD_HASH_ITERATIONS',
      integer(
        env,
        'PASSWORD_HASH_ITERATIONS',
        OWASP_ARGON2_ITERATIONS,
        0,
        1000,
      ),
      OWASP_ARGON2_ITERATIONS,
      '',
    ),
  };
}

/** INTROSPECTION_CLIENTS: comma-separated `id:secret` pairs. */
function introspectionClients(env: Env): IntrospectionClient[] {
  const raw = env.INTROSPECTION_CLIENTS ?? '';
  const clients = raw
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const colon = pair.indexOf(':');
      const id = pair.slice(0, colon);
      const secret = pair.slice(colon + 1);
      if (colon < 1 || !/^[A-Za-z0-9_.-]{1,64}$/.test(id) || secret.length < 16)
        throw new ConfigError(
          'INTROSPECTION_CLIENTS',
          'must list id:secret pairs (ids of letters, digits, "_", "." or "-"; secrets of at least 16 characters)',
        );
      return { id, secret };
    });
  if (new Set(clients.map((c) => c.id)).size !== clients.length)
    throw new ConfigError('INTROSPECTION_CLIENTS', 'lists a client id twice');
  return clients;
}

/** PUBLIC_URL: an http(s) origin, without path. */
function publicUrl(env: Env): string | undefined {
  const raw = env.PUBLIC_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PUBLIC_URL', 'is not a URL');
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.origin !== raw.replace(/\/$/, '')
  )
    throw new ConfigError(
      'PUBLIC_URL',
      'must be an origin such as https://auth.example.com, without a path',
    );
  return url.origin;
}

/**
 * `stdoutIsTerminal` picks the default log format; it is a parameter so that tests do not
 * depend on where jest's output goes.
 */
export function loadConfig(
  env: Env = process.env,
  stdoutIsTerminal = process.stdout.isTTY === true,
): AppConfig {
  const production = env.NODE_ENV === 'production';
  const warnings: string[] = [];

  const url = redisUrl(env);
  const clusterNodes = redisNodes(env, 'REDIS_CLUSTER_NODES');
  const sentinels = redisSentinels(env);
  const chosen = [
    url && 'REDIS_URL',
    clusterNodes && 'REDIS_CLUSTER_NODES',
    sentinels && 'REDIS_SENTINELS',
  ].filter(Boolean);
  if (chosen.length > 1)
    throw new ConfigError(
      chosen.join(' and '),
      `are ${chosen.length === 2 ? 'both' : 'all'} set; set only one of them`,
    );
  if (chosen.length === 0) {
    if (production)
      throw new ConfigError(
        'REDIS_URL',
        'or REDIS_CLUSTER_NODES or REDIS_SENTINELS is required when NODE_ENV=production',
      );
    warnings.push(
      'REDIS_URL is not set: using the embedded in-process store. Data is lost on restart and not shared between instances.',
    );
  }

  let sessionSecrets = (env.SESSION_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (sessionSecrets.length === 0) {
    if (production)
      throw new ConfigError(
        'SESSION_SECRET',
        'is required when NODE_ENV=production',
      );
    sessionSecrets = [randomBytes(32).toString('base64url')];
    warnings.push(
      'SESSION_SECRET is not set: using a random secret, so sessions end when the process restarts.',
    );
  } else if (sessionSecrets.some((s) => s.length < 32)) {
    throw new ConfigError(
      'SESSION_SECRET',
      'must hold secrets of at least 32 characters each',
    );
  }

  const sessionCookieName = env.SESSION_COOKIE_NAME || 'session';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(sessionCookieName)) {
    throw new ConfigError(
      'SESSION_COOKIE_NAME',
      'must be 1-64 letters, digits, "_", "." or "-"',
    );
  }

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}`,
    );
  }

  const logFormat = (env.LOG_FORMAT ||
    (stdoutIsTerminal && !production ? 'pretty' : 'json')) as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError(
      'LOG_FORMAT',
      `must be one of ${LOG_FORMATS.join(', ')}`,
    );
  }

  const adminUsername = env.ADMIN_USERNAME || undefined;
  const adminPassword = env.ADMIN_PASSWORD || undefined;

  return new AppConfig({
    production,
    port: integer(env, 'PORT', 3000, 0, 65535),
    redisUrl: url,
    redisClusterNodes: clusterNodes,
    redisSentinels: sentinels,
    database: database(env, production, warnings),
    sessionSecrets,
    sessionCookieName,
    sessionIdleSeconds: integer(
      env,
      'SESSION_IDLE_SECONDS',
      900,
      1,
      31_536_000,
    ),
    sessionAbsoluteSeconds: integer(
      env,
      'SESSION_ABSOLUTE_SECONDS',
      43_200,
      1,
      31_536_000,
    ),
    tokenTtlSeconds: integer(env, 'TOKEN_TTL_SECONDS', 3600, 1, 31_536_000),
    refreshTokenAbsoluteSeconds: integer(
      env,
      'REFRESH_TOKEN_ABSOLUTE_SECONDS',
      30 * 86_400,
      1,
      31_536_000,
    ),
    refreshTokenIdleSeconds: integer(
      env,
      'REFRESH_TOKEN_IDLE_SECONDS',
      14 * 86_400,
      1,
      31_536_000,
    ),
    refreshReuseGraceSeconds: integer(
      env,
      'REFRESH_REUSE_GRACE_SECONDS',
      10,
      0,
      300,
    ),
    introspectionClients: introspectionClients(env),
    publicUrl: publicUrl(env),
    trustProxy: trustProxy(env),
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    loginFreeFailuresPerAccount: integer(
      env,
      'LOGIN_FREE_FAILURES_PER_ACCOUNT',
      5,
      1,
      1_000_000,
    ),
    loginFreeFailuresPerAddress: integer(
      env,
      'LOGIN_FREE_FAILURES_PER_ADDRESS',
      20,
      1,
      1_000_000,
    ),
    loginFailureWindowSeconds: integer(
      env,
      'LOGIN_FAILURE_WINDOW_SECONDS',
      900,
      1,
      86_400,
    ),
    loginMaxWaitMs: integer(env, 'LOGIN_MAX_WAIT_MS', 2000, 1, 60_000),
    passwordHash: passwordHash(env),
    personalTokensPerUser: integer(
      env,
      'PERSONAL_TOKENS_PER_USER',
      50,
      1,
      10_000,
    ),
    logLevel,
    logFormat,
    adminUsername,
    adminPassword,
    metrics: metrics(env),
    warnings,
  });
}
