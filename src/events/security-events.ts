import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { SQLWrapper } from 'drizzle-orm';
import { AppConfig } from '../infra/config/app-config.js';
import { Database, type Tx } from '../infra/db/database.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import {
  newSecurityEvent,
  type EventClient,
  type SecurityEventInput,
  type SecurityEventRow,
} from './security-event.js';
import { SecurityEventStore } from './security-event.store.js';
import { SECURITY_EVENT_TYPES } from './security-event-types.js';

/** Queued events are written at least this often. */
const FLUSH_INTERVAL_MS = 1000;
/** Rows per INSERT; a full batch is written at once, without waiting for the interval. */
const BATCH_SIZE = 500;
/** While PostgreSQL refuses, retries back off up to this. */
const MAX_RETRY_MS = 5000;
const MINUTE_MS = 60_000;

/** Throttled attempts of one typed name in one minute, not yet resolved to an account. */
interface PendingThrottle {
  row: SecurityEventRow;
  /** Lower-cased, as typed. */
  name: string;
  minute: number;
}

/** Records the events an action takes part in, in its transaction. */
export type RecordEvent = (event: SecurityEventInput) => void;

/**
 * Records security events, two ways. A change committed in PostgreSQL writes its events in
 * its own statement (`withChange`) or transaction (`inTransaction`): both or neither. A change in Redis (a login, a
 * logout, a throttled attempt) queues its event (`record`, `throttled`) without waiting:
 * batches are written about once a second, one INSERT each, off the request path. While
 * PostgreSQL is away they stay in memory, up to SECURITY_EVENTS_BUFFER (later ones are
 * dropped and counted), and are written once it answers; shutdown writes what is left before
 * the database closes. Every event is also one log line.
 */
@Injectable()
export class SecurityEvents implements OnApplicationShutdown {
  private readonly logger = new Logger('SecurityEvents');
  private readonly enabled: boolean;
  private readonly capacity: number;
  private queue: SecurityEventRow[] = [];
  /** By minute and lower-cased name. */
  private readonly throttles = new Map<string, PendingThrottle>();
  /** Rows of the batch being written: still held, so they count against the bound. */
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;
  private dropping = false;
  private stopped = false;

  constructor(
    private readonly store: SecurityEventStore,
    private readonly database: Database,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.enabled = config.securityEvents.enabled;
    this.capacity = config.securityEvents.buffer;
    metrics.securityEventTypes(SECURITY_EVENT_TYPES);
    metrics.securityEventBuffer(() => this.depth);
  }

  /** Events held in memory, the batch being written included. */
  get depth(): number {
    return this.pending + this.inFlight;
  }

  private get pending(): number {
    return this.queue.length + this.throttles.size;
  }

  /**
   * Runs `work` in one PostgreSQL transaction together with the events it records: the change
   * and its events are committed together, or neither is. They are logged once committed.
   */
  async inTransaction<T>(
    work: (tx: Tx, record: RecordEvent) => Promise<T>,
  ): Promise<T> {
    let rows: SecurityEventRow[] = [];
    const result = await this.database.run(() =>
      this.database.db.transaction(async (tx) => {
        rows = [];
        const value = await work(tx, (event) => {
          if (this.enabled) rows.push(newSecurityEvent(event));
        });
        await this.store.insert(tx, rows);
        return value;
      }),
    );
    this.committed(rows);
    return result;
  }

  /**
   * Runs `change`, one data-modifying statement RETURNING what it changed, with its events in
   * the same statement: they are written only if it changed a row. True when it did.
   */
  async withChange(
    change: SQLWrapper & PromiseLike<unknown[]>,
    events: SecurityEventInput[],
  ): Promise<boolean> {
    const rows = this.enabled ? events.map((e) => newSecurityEvent(e)) : [];
    if (rows.length === 0)
      return (await this.database.run(() => change)).length > 0;
    const changed = await this.store.insertAfter(change, rows);
    if (changed) this.committed(rows);
    return changed;
  }

  private committed(rows: readonly SecurityEventRow[]): void {
    for (const row of rows) {
      this.metrics.securityEventsWritten(row.type);
      this.log(row);
    }
  }

  /** Queues the event of a change in Redis; never waits. */
  record(event: SecurityEventInput): void {
    if (!this.enabled) return;
    const row = newSecurityEvent(event);
    // Logged now: the line stays even if the row is dropped.
    this.log(row);
    if (!this.admit()) return;
    this.queue.push(row);
    this.scheduleFlush();
  }

  /**
   * Queues a login the throttle refused, for the account named `username`. The attempts of a
   * name in one minute fold into one row that counts them; the name is resolved to its account
   * when the batch is written (one query per batch), and a name of no account is dropped then,
   * so what was typed is never stored.
   */
  throttled(username: string, client: EventClient): void {
    if (!this.enabled) return;
    const now = new Date();
    const minute = Math.floor(now.getTime() / MINUTE_MS);
    const name = username.toLowerCase();
    const key = `${minute}:${name}`;
    const pending = this.throttles.get(key);
    if (pending) {
      pending.row.count++;
      return;
    }
    if (!this.admit()) return;
    this.throttles.set(key, {
      row: newSecurityEvent({ type: 'login.throttled', client }, now),
      name,
      minute,
    });
    this.scheduleFlush();
  }

  /** Shutdown: after the last request, before the database closes (a global module, so later). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing;
    while (this.pending > 0) if (!(await this.writeBatch())) break;
    const lost = this.pending;
    if (lost === 0) return;
    this.queue = [];
    this.throttles.clear();
    this.metrics.securityEventsDropped(lost);
    this.logger.error(
      `${lost} security events could not be written before exit: the database did not take them`,
    );
  }

  private admit(): boolean {
    if (this.depth < this.capacity) {
      this.dropping = false;
      return true;
    }
    this.metrics.securityEventsDropped();
    if (!this.dropping)
      this.logger.error(
        `Security-event buffer full (${this.capacity}, SECURITY_EVENTS_BUFFER): dropping new events until the database takes them`,
      );
    this.dropping = true;
    return false;
  }

  private scheduleFlush(): void {
    if (this.stopped) return;
    if (this.pending >= BATCH_SIZE) void this.flush();
    else if (!this.timer && !this.flushing) this.wakeIn(FLUSH_INTERVAL_MS);
  }

  private wakeIn(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    // Shutdown writes what is left; a timer never keeps the process alive.
    this.timer.unref();
  }

  /** One flush at a time; never rejects. */
  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.stopped || this.pending === 0) return;
      if (this.failures > 0)
        this.wakeIn(
          Math.min(FLUSH_INTERVAL_MS * 2 ** (this.failures - 1), MAX_RETRY_MS),
        );
      else if (this.pending >= BATCH_SIZE) void this.flush();
      else this.wakeIn(FLUSH_INTERVAL_MS);
    });
    return this.flushing;
  }

  /** Writes a batch, and more while full ones wait; stops at a failure. */
  private async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    do if (!(await this.writeBatch())) return;
    while (this.pending >= BATCH_SIZE);
  }

  /**
   * Writes the oldest events, at most a batch; false when the database refused them, which
   * are then kept, in order, for the next try.
   */
  private async writeBatch(): Promise<boolean> {
    const rows = this.queue.splice(0, BATCH_SIZE);
    const throttles = [...this.throttles.entries()].slice(
      0,
      BATCH_SIZE - rows.length,
    );
    for (const [key] of throttles) this.throttles.delete(key);
    this.inFlight = rows.length + throttles.length;
    if (this.inFlight === 0) return true;
    try {
      const coalesced = await this.resolve(
        throttles.map(([, pending]) => pending),
      );
      await this.store.insertBatch([...rows, ...coalesced]);
      for (const row of rows) this.metrics.securityEventsWritten(row.type);
      for (const row of coalesced) {
        this.metrics.securityEventsWritten(row.type, row.count);
        this.log(row);
      }
      if (this.failures > 0)
        this.logger.log('Security events are written again');
      this.failures = 0;
      return true;
    } catch (err) {
      this.queue.unshift(...rows);
      for (const [key, pending] of throttles) {
        const later = this.throttles.get(key);
        if (later) pending.row.count += later.row.count;
        this.throttles.set(key, pending);
      }
      if (this.failures === 0)
        this.logger.warn(
          `Security events not written (${err instanceof Error ? err.message : String(err)}); kept in memory and retried`,
        );
      this.failures++;
      return false;
    } finally {
      this.inFlight = 0;
    }
  }

  /** Throttled attempts as rows of their accounts, one per account and minute; unknown names dropped. */
  private async resolve(
    throttles: PendingThrottle[],
  ): Promise<SecurityEventRow[]> {
    if (throttles.length === 0) return [];
    const ids = await this.store.accountIds([
      ...new Set(throttles.map((t) => t.name)),
    ]);
    const byKey = new Map<string, SecurityEventRow>();
    for (const { row, name, minute } of throttles) {
      const userId = ids.get(name);
      if (!userId) continue;
      const coalesceKey = `login.throttled:${userId}:${new Date(minute * MINUTE_MS).toISOString().slice(0, 16)}`;
      const same = byKey.get(coalesceKey);
      if (same) same.count += row.count;
      else byKey.set(coalesceKey, { ...row, userId, coalesceKey });
    }
    return [...byKey.values()];
  }

  /** One structured line per event: what, whose, from where; never a secret. */
  private log(row: SecurityEventRow): void {
    // A reused refresh token means a stolen one: worth a warning of its own.
    const level = row.type === 'refresh.reuse_detected' ? 'warn' : 'log';
    this.logger[level]({
      msg: 'security event',
      event: row.type,
      user: row.userId,
      ...(row.actorId && { actor: row.actorId }),
      ip: row.ip,
      ...(row.loginId && { login: row.loginId }),
      ...(row.count > 1 && { count: row.count }),
      ...(Object.keys(row.details).length > 0 && { details: row.details }),
    });
  }
}
