import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import { Database, type Db, type Tx } from '../infra/db/database.js';
import { mailOutbox } from '../infra/db/schema.js';

/** A row the sender has claimed: it alone may send it until the lease ends. */
export interface ClaimedMail {
  id: string;
  recipient: string;
  /** Null only for a failed row, which is never claimed; kept nullable as the column is. */
  payload: string | null;
  keyId: string;
  /** Tries so far, this one included: what the claim's later updates check they still hold. */
  attempts: number;
}

export interface OutboxBacklog {
  /** Mails not sent yet and not given up on, those being sent included. */
  queued: number;
  /** Age of the oldest of them; 0 when there is none. */
  oldestSeconds: number;
  /** When the next one may be claimed, from now (negative: already due); null when none waits. */
  nextDueSeconds: number | null;
}

const seconds = (ms: number) => ms / 1000;

/**
 * The `mail_outbox` table, sole owner. Every instance claims from it: a claim is one UPDATE
 * over rows picked FOR UPDATE SKIP LOCKED, which counts the try and sets a lease (the row's
 * next_attempt_at moves past the send), so two instances never hold one row, and a row whose
 * instance died comes due again when its lease ends. The time is always the database's.
 */
@Injectable()
export class MailOutboxStore {
  constructor(private readonly database: Database) {}

  /** Queues a row in the caller's transaction (or on its own, given the database). */
  async insert(
    db: Db | Tx,
    row: { id: string; recipient: string; payload: string; keyId: string },
  ): Promise<void> {
    await db.insert(mailOutbox).values(row);
  }

  /** Queues a row on its own; the query is bounded like any other. */
  async insertAlone(row: {
    id: string;
    recipient: string;
    payload: string;
    keyId: string;
  }): Promise<void> {
    await this.database.run(() => this.insert(this.database.db, row));
  }

  /** Claims up to `batch` due rows, oldest due first, for `leaseMs`. */
  async claim(batch: number, leaseMs: number): Promise<ClaimedMail[]> {
    return this.runInBackground((db) =>
      db
        .update(mailOutbox)
        .set({
          attempts: sql`${mailOutbox.attempts} + 1`,
          nextAttemptAt: sql`now() + make_interval(secs => ${seconds(leaseMs)})`,
        })
        .where(
          inArray(
            mailOutbox.id,
            db
              .select({ id: mailOutbox.id })
              .from(mailOutbox)
              .where(
                and(
                  isNull(mailOutbox.failedAt),
                  lte(mailOutbox.nextAttemptAt, sql`now()`),
                ),
              )
              .orderBy(asc(mailOutbox.nextAttemptAt))
              .limit(batch)
              .for('update', { skipLocked: true }),
          ),
        )
        .returning({
          id: mailOutbox.id,
          recipient: mailOutbox.recipient,
          payload: mailOutbox.payload,
          keyId: mailOutbox.keyId,
          attempts: mailOutbox.attempts,
        }),
    );
  }

  /** Sent: the row goes (nothing of a sent mail is kept). */
  async delete(mail: ClaimedMail): Promise<void> {
    await this.runInBackground((db) =>
      db.delete(mailOutbox).where(this.stillClaimed(mail)),
    );
  }

  /**
   * A try failed for now: due again after `delayMs`, unless that is past `retryForSeconds`
   * after the mail was queued, when it is marked failed instead. True when it failed.
   */
  async retryOrFail(
    mail: ClaimedMail,
    delayMs: number,
    retryForSeconds: number,
    error: string,
  ): Promise<boolean> {
    const next = sql`now() + make_interval(secs => ${seconds(delayMs)})`;
    const tooLate = sql`${mailOutbox.createdAt} + make_interval(secs => ${retryForSeconds}) < ${next}`;
    const rows = await this.runInBackground((db) =>
      db
        .update(mailOutbox)
        .set({
          nextAttemptAt: next,
          failedAt: sql`case when ${tooLate} then now() end`,
          payload: sql`case when ${tooLate} then null else ${mailOutbox.payload} end`,
          lastError: error,
        })
        .where(this.stillClaimed(mail))
        .returning({ failedAt: mailOutbox.failedAt }),
    );
    return rows[0]?.failedAt != null;
  }

  /** Given up on: refused for good, or unreadable. Its payload goes; the error stays a while. */
  async fail(mail: ClaimedMail, error: string): Promise<void> {
    await this.runInBackground((db) =>
      db
        .update(mailOutbox)
        .set({ failedAt: sql`now()`, payload: null, lastError: error })
        .where(this.stillClaimed(mail)),
    );
  }

  /** Gives a claimed row back at once (shutdown cut its send short): the try is not counted. */
  async release(mail: ClaimedMail): Promise<void> {
    await this.runInBackground((db) =>
      db
        .update(mailOutbox)
        .set({
          nextAttemptAt: sql`now()`,
          attempts: sql`${mailOutbox.attempts} - 1`,
        })
        .where(this.stillClaimed(mail)),
    );
  }

  async backlog(): Promise<OutboxBacklog> {
    const [row] = await this.runInBackground((db) =>
      db
        .select({
          queued: sql<number>`count(*)::int`,
          oldestSeconds: sql<
            number | null
          >`extract(epoch from now() - min(${mailOutbox.createdAt}))::float8`,
          nextDueSeconds: sql<
            number | null
          >`extract(epoch from min(${mailOutbox.nextAttemptAt}) - now())::float8`,
        })
        .from(mailOutbox)
        .where(isNull(mailOutbox.failedAt)),
    );
    return {
      queued: Number(row.queued),
      oldestSeconds: Math.max(0, Math.round(Number(row.oldestSeconds ?? 0))),
      nextDueSeconds:
        row.nextDueSeconds === null ? null : Number(row.nextDueSeconds),
    };
  }

  /** Deletes failed rows older than `days`; how many. */
  async deleteFailed(days: number): Promise<number> {
    const rows = await this.runInBackground((db) =>
      db
        .delete(mailOutbox)
        .where(
          lt(mailOutbox.failedAt, sql`now() - make_interval(days => ${days})`),
        )
        .returning({ id: mailOutbox.id }),
    );
    return rows.length;
  }

  /** A statement no request waits for: counted as background work, not as a request's. */
  private runInBackground<T>(query: (db: Db) => PromiseLike<T>): Promise<T> {
    return this.database.run(() => query(this.database.backgroundDb));
  }

  /** The claim is still this one: no other instance has claimed the row since (its lease ran out). */
  private stillClaimed(mail: ClaimedMail) {
    return and(
      eq(mailOutbox.id, mail.id),
      eq(mailOutbox.attempts, mail.attempts),
      isNull(mailOutbox.failedAt),
    );
  }
}
