import { Injectable } from '@nestjs/common';
import {
  and,
  desc,
  eq,
  gte,
  inArray,
  lt,
  sql,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import { Database, type Tx } from '../infra/db/database.js';
import { securityEvents, users } from '../infra/db/schema.js';
import type { SecurityEvent, SecurityEventRow } from './security-event.js';
import type { SecurityEventType } from './security-event-types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Key of the transaction-level advisory lock the retention job holds, so one instance at a
 * time deletes (pg_try_advisory_xact_lock takes a bigint; this one spells "authevts").
 */
const RETENTION_LOCK_KEY = 0x6175746865767473n;

/** What `list` answers: filters, at most `limit` rows, newest first, strictly after `after`. */
export interface SecurityEventFilter {
  userId?: string;
  type?: SecurityEventType;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  limit: number;
  /** The last row of the page before (keyset): the page starts past it. */
  after?: { occurredAt: Date; id: string };
}

const COLUMNS = {
  id: securityEvents.id,
  occurredAt: securityEvents.occurredAt,
  type: securityEvents.type,
  userId: securityEvents.userId,
  actorId: securityEvents.actorId,
  ip: securityEvents.ip,
  userAgent: securityEvents.userAgent,
  loginId: securityEvents.loginId,
  details: securityEvents.details,
  count: securityEvents.count,
};

/**
 * The `security_events` table, append-only; its only reader and writer. Rows are written in
 * the caller's transaction or statement (a change committed in PostgreSQL and its event: both
 * or neither), or in batches whose ids were made when the events happened, so a retry or a
 * second instance writing the same rows changes nothing. Rows with a coalesce key fold into
 * one, counted up. What only background work calls (batches, name lookups, retention) goes
 * through the database's `backgroundDb`.
 */
@Injectable()
export class SecurityEventStore {
  constructor(private readonly database: Database) {}

  /** Writes events inside the caller's transaction `tx`. */
  async insert(tx: Tx, events: readonly SecurityEventRow[]): Promise<void> {
    if (events.length === 0) return;
    await tx.insert(securityEvents).values(events.map(toValues));
  }

  /**
   * Runs `change` (an INSERT, UPDATE or DELETE … RETURNING) and writes `events` only if it
   * returned a row, in one statement: atomic as a transaction, at the cost of the change alone.
   * True when the change returned a row.
   */
  async insertAfter(
    change: SQLWrapper,
    events: readonly SecurityEventRow[],
  ): Promise<boolean> {
    const values = sql.join(
      events.map(
        (e) =>
          sql`(${e.id}::uuid, ${e.occurredAt.toISOString()}::timestamptz, ${e.type}, ${e.userId}::uuid, ${e.actorId}::uuid, ${e.ip}, ${e.userAgent}, ${e.loginId}, ${JSON.stringify(e.details)}::jsonb, ${e.count}::integer)`,
      ),
      sql`, `,
    );
    const result: unknown = await this.database.run(() =>
      this.database.db.execute(
        sql`with changed as (${change.getSQL()}) insert into ${securityEvents} (id, occurred_at, type, user_id, actor_id, ip, user_agent, login_id, details, count) select * from (values ${values}) as event where exists (select 1 from changed) returning id`,
      ),
    );
    // Both drivers answer `execute` with `{ rows }`; the shared type does not say so.
    return (result as { rows: unknown[] }).rows.length > 0;
  }

  /**
   * Writes a batch outside any request: plain rows once (a row already there by its id is
   * left alone), coalesced rows added to the row of their key. At most two statements. The
   * rows given must have distinct coalesce keys (PostgreSQL refuses to update a row twice
   * in one statement).
   */
  async insertBatch(events: readonly SecurityEventRow[]): Promise<void> {
    const plain = events.filter((e) => e.coalesceKey === null);
    const coalesced = events.filter((e) => e.coalesceKey !== null);
    const db = this.database.backgroundDb;
    if (plain.length > 0)
      await this.database.run(() =>
        db
          .insert(securityEvents)
          .values(plain.map(toValues))
          .onConflictDoNothing({ target: securityEvents.id }),
      );
    if (coalesced.length > 0)
      await this.database.run(() =>
        db
          .insert(securityEvents)
          .values(coalesced.map(toValues))
          .onConflictDoUpdate({
            target: securityEvents.coalesceKey,
            set: {
              count: sql`${securityEvents.count} + excluded.count`,
            },
          }),
      );
  }

  /**
   * The accounts of these lower-cased usernames, in one query: lower-cased name to id. Names
   * of no account are absent (what was typed for them is never stored). Reads `users` only,
   * as the personal-token store does.
   */
  async accountIds(names: readonly string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows = await this.database.run(() =>
      this.database.backgroundDb
        .select({ id: users.id, name: sql<string>`lower(${users.username})` })
        .from(users)
        .where(inArray(sql`lower(${users.username})`, [...names])),
    );
    return new Map(rows.map((row) => [row.name, row.id]));
  }

  /**
   * Deletes up to `batch` rows older than `cutoff`, oldest first; how many. One instance at a
   * time: while another holds the retention lock this deletes nothing and answers 0.
   */
  async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    return this.database.run(() =>
      this.database.backgroundDb.transaction(async (tx) => {
        const result: unknown = await tx.execute(
          sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) as locked`,
        );
        // Both drivers answer `execute` with `{ rows }`; the shared type does not say so.
        const locked =
          (result as { rows: { locked: boolean }[] }).rows[0]?.locked === true;
        if (!locked) return 0;
        const rows = await tx
          .delete(securityEvents)
          .where(
            inArray(
              securityEvents.id,
              tx
                .select({ id: securityEvents.id })
                .from(securityEvents)
                .where(lt(securityEvents.occurredAt, cutoff))
                .orderBy(securityEvents.occurredAt)
                .limit(batch),
            ),
          )
          .returning({ id: securityEvents.id });
        return rows.length;
      }),
    );
  }

  /**
   * Events newest first (occurred_at, then id, both descending), filtered, keyset-paginated:
   * pass the last row of a page as `after` for the next. A `userId` or cursor id that is not
   * a uuid matches nothing.
   */
  async list(filter: SecurityEventFilter): Promise<SecurityEvent[]> {
    if (filter.userId !== undefined && !UUID.test(filter.userId)) return [];
    if (filter.after && !UUID.test(filter.after.id)) return [];
    const conditions: SQL[] = [];
    if (filter.userId !== undefined)
      conditions.push(eq(securityEvents.userId, filter.userId));
    if (filter.type !== undefined)
      conditions.push(eq(securityEvents.type, filter.type));
    if (filter.since)
      conditions.push(gte(securityEvents.occurredAt, filter.since));
    if (filter.until)
      conditions.push(lt(securityEvents.occurredAt, filter.until));
    if (filter.after)
      conditions.push(
        sql`(${securityEvents.occurredAt}, ${securityEvents.id}) < (${filter.after.occurredAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`,
      );
    const rows = await this.database.run(() =>
      this.database.db
        .select(COLUMNS)
        .from(securityEvents)
        .where(and(...conditions))
        .orderBy(desc(securityEvents.occurredAt), desc(securityEvents.id))
        .limit(filter.limit),
    );
    return rows.map((row) => ({
      ...row,
      type: row.type as SecurityEventType,
    }));
  }
}

function toValues(event: SecurityEventRow): typeof securityEvents.$inferInsert {
  return event;
}
