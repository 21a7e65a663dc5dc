import { randomBytes } from 'node:crypto';
import type { IntrospectionClient, RedisNode } from './env-values.js';
import type { MailTransportConfig } from './mail-url.js';
import {
  validateEnvironment,
  type LogFormat,
  type LogLevel,
  type RawEnvironment,
} from './environment.schema.js';

export { ConfigError } from './config-error.js';
export type { IntrospectionClient, RedisNode } from './env-values.js';
export type { LogFormat, LogLevel } from './environment.schema.js';
export type { MailTransportConfig } from './mail-url.js';

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
  /** The most live personal access tokens one account may hold. */
  readonly personalTokensPerUser!: number;
  /** How long an email-verification link works. */
  readonly emailVerificationTtlSeconds!: number;
  /** How long a password-reset link works. */
  readonly passwordResetTtlSeconds!: number;
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
  readonly adminUsername?: string;
  readonly adminPassword?: string;
  /** Prometheus metrics: off, on the main port for admins, or on a port of their own without auth. */
  readonly metrics!: MetricsConfig;
  /** Outgoing mail: off (MAIL=off: every mail feature off), or how and from whom it is sent. */
  readonly mail!: MailConfig;
  /** The security-event record: on or off, the bound of its in-memory buffer, how long rows are kept. */
  readonly securityEvents!: SecurityEventsConfig;
  /** Boot-time notes for the log: insecure development defaults in use. */
  readonly warnings!: string[];

  constructor(values: AppConfig) {
    Object.assign(this, values);
  }
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

export interface SecurityEventsConfig {
  enabled: boolean;
  /** Events held while PostgreSQL cannot take them; past it new ones are dropped. */
  buffer: number;
  retentionDays: number;
}

export type MetricsConfig =
  { enabled: false } | { enabled: true; port?: number };

export type MailConfig =
  | { enabled: false }
  | {
      enabled: true;
      transport: MailTransportConfig;
      /** The sender's bare address; `serviceName` is its display name. */
      from: string;
      serviceName: string;
      /** Origin every link in a mail starts with (PUBLIC_URL; in development `http://localhost:PORT`). */
      linkBase: string;
      /** A mail still undelivered this long after it was queued is marked failed. */
      retryForSeconds: number;
      /** The first retry waits this long, each further one twice as long (at most an hour). */
      retryBaseMs: number;
    };

/**
 * `stdoutIsTerminal` picks the default log format; it is a parameter so that tests do not
 * depend on where jest's output goes.
 */
export function loadConfig(
  env: RawEnvironment = process.env,
  stdoutIsTerminal = process.stdout.isTTY === true,
): AppConfig {
  const vars = validateEnvironment(env);
  const production = vars.NODE_ENV === 'production';
  const warnings: string[] = [];

  if (!vars.REDIS_URL && !vars.REDIS_CLUSTER_NODES && !vars.REDIS_SENTINELS)
    warnings.push(
      'REDIS_URL is not set: using the embedded in-process store. Data is lost on restart and not shared between instances.',
    );
  let sessionSecrets = vars.SESSION_SECRET ?? [];
  if (sessionSecrets.length === 0) {
    sessionSecrets = [randomBytes(32).toString('base64url')];
    warnings.push(
      'SESSION_SECRET is not set: using a random secret, so sessions end when the process restarts and mail still queued then cannot be sent.',
    );
  }
  if (!vars.DATABASE_URL)
    warnings.push(
      `DATABASE_URL is not set: accounts are kept in the embedded PGlite under ${vars.DATABASE_DIR}, which serves a single process; run one instance only.`,
    );

  return new AppConfig({
    production,
    port: vars.PORT,
    redisUrl: vars.REDIS_URL,
    redisClusterNodes: vars.REDIS_CLUSTER_NODES,
    redisSentinels:
      vars.REDIS_SENTINELS && vars.REDIS_SENTINEL_NAME
        ? { nodes: vars.REDIS_SENTINELS, masterName: vars.REDIS_SENTINEL_NAME }
        : undefined,
    database: vars.DATABASE_URL
      ? {
          kind: 'postgres',
          url: vars.DATABASE_URL,
          poolMax: vars.DATABASE_POOL_MAX,
          migrate: vars.DATABASE_MIGRATE,
        }
      : {
          kind: 'pglite',
          dir: vars.DATABASE_DIR,
          migrate: vars.DATABASE_MIGRATE,
        },
    sessionSecrets,
    sessionCookieName: vars.SESSION_COOKIE_NAME,
    sessionIdleSeconds: vars.SESSION_IDLE_SECONDS,
    sessionAbsoluteSeconds: vars.SESSION_ABSOLUTE_SECONDS,
    tokenTtlSeconds: vars.TOKEN_TTL_SECONDS,
    refreshTokenAbsoluteSeconds: vars.REFRESH_TOKEN_ABSOLUTE_SECONDS,
    refreshTokenIdleSeconds: vars.REFRESH_TOKEN_IDLE_SECONDS,
    refreshReuseGraceSeconds: vars.REFRESH_REUSE_GRACE_SECONDS,
    personalTokensPerUser: vars.PERSONAL_TOKENS_PER_USER,
    emailVerificationTtlSeconds: vars.EMAIL_VERIFICATION_TTL_SECONDS,
    passwordResetTtlSeconds: vars.PASSWORD_RESET_TTL_SECONDS,
    introspectionClients: vars.INTROSPECTION_CLIENTS ?? [],
    publicUrl: vars.PUBLIC_URL,
    trustProxy: vars.TRUST_PROXY,
    allowedOrigins: vars.ALLOWED_ORIGINS ?? [],
    corsOrigins: vars.CORS_ORIGINS ?? [],
    loginFreeFailuresPerAccount: vars.LOGIN_FREE_FAILURES_PER_ACCOUNT,
    loginFreeFailuresPerAddress: vars.LOGIN_FREE_FAILURES_PER_ADDRESS,
    loginFailureWindowSeconds: vars.LOGIN_FAILURE_WINDOW_SECONDS,
    loginMaxWaitMs: vars.LOGIN_MAX_WAIT_MS,
    passwordHash: {
      memoryKib: vars.PASSWORD_HASH_MEMORY_KIB,
      iterations: vars.PASSWORD_HASH_ITERATIONS,
    },
    logLevel: vars.LOG_LEVEL,
    logFormat:
      vars.LOG_FORMAT ?? (stdoutIsTerminal && !production ? 'pretty' : 'json'),
    adminUsername: vars.ADMIN_USERNAME,
    adminPassword: vars.ADMIN_PASSWORD,
    metrics: !vars.METRICS
      ? { enabled: false }
      : vars.METRICS_PORT === undefined
        ? { enabled: true }
        : { enabled: true, port: vars.METRICS_PORT },
    mail: vars.MAIL
      ? {
          enabled: true,
          transport: vars.MAIL_URL,
          from: vars.MAIL_FROM ?? 'no-reply@localhost',
          serviceName: vars.SERVICE_NAME,
          linkBase: vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`,
          retryForSeconds: vars.MAIL_RETRY_FOR_SECONDS,
          retryBaseMs: vars.MAIL_RETRY_BASE_MS,
        }
      : { enabled: false },
    securityEvents: {
      enabled: vars.SECURITY_EVENTS,
      buffer: vars.SECURITY_EVENTS_BUFFER,
      retentionDays: vars.SECURITY_EVENTS_RETENTION_DAYS,
    },
    warnings,
  });
}
