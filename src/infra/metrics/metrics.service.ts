import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { AppConfig } from '../config/app-config.js';
import { redisAnswers } from '../redis/redis-client.factory.js';
import { REDIS } from '../redis/redis.constants.js';
import { instrumentRedisCommands } from './redis-command-metrics.js';
import { requestMetrics } from './request-metrics.middleware.js';

/** Namespace of this service's own metrics; the process metrics keep their standard names. */
const PREFIX = 'auth_';

const LOGIN_OUTCOMES = [
  'success',
  'invalid_credentials',
  'throttled',
  'shed',
  'unavailable',
  'error',
] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/** Why tokens were revoked: the action that ended their login. */
const REVOCATION_REASONS = [
  'logout',
  'login_ended',
  'logout_all',
  'password_change',
  'password_reset',
  'account_disabled',
  'admin_ended',
  'refresh_reuse',
  'revoked',
  'email_change_undone',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** Why personal access tokens were revoked. */
const PERSONAL_TOKEN_REVOCATION_REASONS = [
  'owner',
  'admin',
  'account_disabled',
  'revocation_endpoint',
  'password_reset',
] as const;
export type PersonalTokenRevocationReason =
  (typeof PERSONAL_TOKEN_REVOCATION_REASONS)[number];

const REFRESH_OUTCOMES = [
  'rotated',
  'grace',
  'reuse_detected',
  'expired',
  'invalid',
] as const;
export type RefreshOutcomeName = (typeof REFRESH_OUTCOMES)[number];

/** Sub-millisecond answers are the norm here (one Redis round trip); a login costs an scrypt hash. */
const REQUEST_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Up to the client's 1.5 s command timeout. */
const REDIS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5,
];

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event loop and GC metrics describe the process, not one app, and prom-client
 * cannot stop their collectors once started. So they are collected once per process, however
 * many apps it boots (the test suite boots dozens), in a registry of their own.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The outbox as the mail sender last counted it; undefined before its first count. */
export type MailBacklogReader = () =>
  { queued: number; oldestSeconds: number } | undefined;

interface AppMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  logins: Counter<'outcome'>;
  refreshes: Counter<'outcome'>;
  tokensIssued: Counter;
  tokensRevoked: Counter<'reason'>;
  personalTokensCreated: Counter;
  personalTokensRevoked: Counter<'reason'>;
  personalTokensUsed: Counter;
  redisCommandDuration: Histogram<'command'>;
  redisCommandErrors: Counter<'command'>;
  mailSent: Counter;
  mailRetried: Counter;
  mailFailed: Counter;
  mailBacklog: { read?: MailBacklogReader };
  securityEventsWritten: Counter<'type'>;
  securityEventsDropped: Counter;
  /** Reads the security-event buffer's depth when scraped; set by the writer. */
  securityEventsBuffered: { depth: () => number };
}

/**
 * This app's Prometheus metrics, in a registry of its own (never prom-client's global one).
 * With METRICS=off nothing is created: every count is a no-op and nothing is hooked into
 * requests or Redis commands.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly metrics?: AppMetrics;

  constructor(
    config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    if (config.metrics.enabled) this.metrics = createMetrics(redis);
  }

  onModuleInit(): void {
    if (!this.metrics) return;
    instrumentRedisCommands(
      this.redis,
      this.metrics.redisCommandDuration,
      this.metrics.redisCommandErrors,
    );
  }

  /** The Express middleware timing every request, or undefined when metrics are off. */
  requestMiddleware(): RequestHandler | undefined {
    return this.metrics && requestMetrics(this.metrics.requestDuration);
  }

  loginAttempted(outcome: LoginOutcome): void {
    this.metrics?.logins.inc({ outcome });
  }

  refreshed(outcome: RefreshOutcomeName): void {
    this.metrics?.refreshes.inc({ outcome });
  }

  tokensIssued(count = 1): void {
    this.metrics?.tokensIssued.inc(count);
  }

  tokensRevoked(reason: RevocationReason, count: number): void {
    this.metrics?.tokensRevoked.inc({ reason }, count);
  }

  personalTokenCreated(): void {
    this.metrics?.personalTokensCreated.inc();
  }

  personalTokensRevoked(
    reason: PersonalTokenRevocationReason,
    count: number,
  ): void {
    this.metrics?.personalTokensRevoked.inc({ reason }, count);
  }

  personalTokenUsed(): void {
    this.metrics?.personalTokensUsed.inc();
  }

  mailSent(): void {
    this.metrics?.mailSent.inc();
  }

  mailRetried(): void {
    this.metrics?.mailRetried.inc();
  }

  mailFailed(): void {
    this.metrics?.mailFailed.inc();
  }

  /** Where the queue gauges read the outbox's backlog from (the mail sender's last count). */
  readMailBacklogFrom(read: MailBacklogReader): void {
    if (this.metrics) this.metrics.mailBacklog.read = read;
  }

  /** Makes a series for each security-event type, so none is missing before its first event. */
  securityEventTypes(types: readonly string[]): void {
    for (const type of types)
      this.metrics?.securityEventsWritten.inc({ type }, 0);
  }

  /** Occurrences stored (a coalesced row counts each attempt it stands for). */
  securityEventsWritten(type: string, count = 1): void {
    this.metrics?.securityEventsWritten.inc({ type }, count);
  }

  securityEventsDropped(count = 1): void {
    this.metrics?.securityEventsDropped.inc(count);
  }

  /** How the buffer gauge reads the writer's depth at each scrape. */
  securityEventBuffer(depth: () => number): void {
    if (this.metrics) this.metrics.securityEventsBuffered.depth = depth;
  }

  /** The exposition text: process metrics, then this app's. */
  async scrape(): Promise<string> {
    if (!this.metrics) throw new Error('metrics are off');
    const [ofProcess, ofApp] = await Promise.all([
      processMetrics().metrics(),
      this.metrics.registry.metrics(),
    ]);
    return `${ofProcess}\n${ofApp}`;
  }
}

function createMetrics(redis: Redis): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  processMetrics();
  const logins = new Counter({
    name: `${PREFIX}logins_total`,
    help: 'Password logins (POST /auth/token without a session) by outcome; success once the login is recorded and its first token issued.',
    labelNames: ['outcome'],
    registers,
  });
  const tokensRevoked = new Counter({
    name: `${PREFIX}tokens_revoked_total`,
    help: 'Live access tokens deleted before their expiry, by the action that ended their login.',
    labelNames: ['reason'],
    registers,
  });
  const refreshes = new Counter({
    name: `${PREFIX}refreshes_total`,
    help: 'Refresh-token grants by outcome; reuse_detected is a security event (the login is ended).',
    labelNames: ['outcome'],
    registers,
  });
  const personalTokensRevoked = new Counter({
    name: `${PREFIX}personal_tokens_revoked_total`,
    help: 'Live personal access tokens revoked, by who or what revoked them.',
    labelNames: ['reason'],
    registers,
  });
  // Every series exists from the start, so a rate over a fresh process is not a missing series.
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0);
  for (const outcome of REFRESH_OUTCOMES) refreshes.inc({ outcome }, 0);
  for (const reason of REVOCATION_REASONS) tokensRevoked.inc({ reason }, 0);
  for (const reason of PERSONAL_TOKEN_REVOCATION_REASONS)
    personalTokensRevoked.inc({ reason }, 0);
  const mailBacklog: { read?: MailBacklogReader } = {};
  new Gauge({
    name: `${PREFIX}mail_queue_depth`,
    help: 'Mails in the outbox (shared by every instance) waiting to be sent or retried, as this instance last counted them.',
    registers,
    collect() {
      this.set(mailBacklog.read?.()?.queued ?? 0);
    },
  });
  new Gauge({
    name: `${PREFIX}mail_oldest_queued_seconds`,
    help: 'Age of the oldest mail waiting in the outbox, as this instance last counted; 0 when none waits.',
    registers,
    collect() {
      this.set(mailBacklog.read?.()?.oldestSeconds ?? 0);
    },
  });
  const securityEventsBuffered = { depth: () => 0 };
  new Gauge({
    name: `${PREFIX}security_events_buffered`,
    help: 'Security events waiting in memory to be written to PostgreSQL (the batch being written included).',
    registers,
    collect() {
      this.set(securityEventsBuffered.depth());
    },
  });
  new Gauge({
    name: `${PREFIX}redis_up`,
    help: '1 when the Redis client is connected, ready and answering (no circuit breaker open), else 0.',
    registers,
    collect() {
      this.set(redisAnswers(redis) ? 1 : 0);
    },
  });
  return {
    registry,
    requestDuration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by method, route template ("unmatched" when no route answered) and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    logins,
    refreshes,
    tokensIssued: new Counter({
      name: `${PREFIX}tokens_issued_total`,
      help: 'Access tokens issued, by logins and by further token requests of a logged-in session.',
      registers,
    }),
    tokensRevoked,
    personalTokensCreated: new Counter({
      name: `${PREFIX}personal_tokens_created_total`,
      help: 'Personal access tokens created.',
      registers,
    }),
    personalTokensRevoked,
    personalTokensUsed: new Counter({
      name: `${PREFIX}personal_tokens_used_total`,
      help: 'Requests authenticated by a personal access token.',
      registers,
    }),
    redisCommandDuration: new Histogram({
      name: `${PREFIX}redis_command_duration_seconds`,
      help: 'Redis commands answered without error, from send to reply, by command.',
      labelNames: ['command'],
      buckets: REDIS_BUCKETS,
      registers,
    }),
    redisCommandErrors: new Counter({
      name: `${PREFIX}redis_command_errors_total`,
      help: 'Redis commands that failed (error reply, timeout, connection down), by command.',
      labelNames: ['command'],
      registers,
    }),
    mailSent: new Counter({
      name: `${PREFIX}mail_sent_total`,
      help: 'Mails this instance handed to the mail server (or wrote, with a file: or console: MAIL_URL).',
      registers,
    }),
    mailRetried: new Counter({
      name: `${PREFIX}mail_retried_total`,
      help: 'Attempts to send a mail that failed and will be retried (mail server down or refusing for now).',
      registers,
    }),
    mailFailed: new Counter({
      name: `${PREFIX}mail_failed_total`,
      help: 'Mails given up on: refused for good, or still undelivered at the end of MAIL_RETRY_FOR_SECONDS.',
      registers,
    }),
    mailBacklog,
    securityEventsWritten: new Counter({
      name: `${PREFIX}security_events_written_total`,
      help: 'Security events stored in PostgreSQL, by type; a coalesced login.throttled row adds the attempts it stands for.',
      labelNames: ['type'],
      registers,
    }),
    securityEventsDropped: new Counter({
      name: `${PREFIX}security_events_dropped_total`,
      help: 'Security events lost: the buffer was full while PostgreSQL could not take them, or shutdown could not write them.',
      registers,
    }),
    securityEventsBuffered,
  };
}
