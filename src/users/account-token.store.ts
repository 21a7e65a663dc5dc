import { Injectable } from '@nestjs/common';
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { Database, type Tx } from '../infra/db/database.js';
import { accountTokens } from '../infra/db/schema.js';

/** What a mailed link is for. */
export type AccountTokenPurpose =
  'verify_email' | 'undo_email_change' | 'reset_password';

/** A token as its consumer gets it back: whose, about which address, issued when. */
export interface AccountToken {
  id: string;
  userId: string;
  purpose: AccountTokenPurpose;
  email: string | null;
  createdAt: Date;
}

/** 32 random bytes: the link's secret; only its digest is stored. */
const TOKEN_BYTES = 32;
/** Longer than any token this store makes; anything longer is refused unread. */
const TOKEN_MAX_LENGTH = 64;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;
/** Rows gone for this long (used, ended or expired) are purged. */
const KEEP_ENDED_DAYS = 7;

function digest(token: string): string {
  return hash('sha256', token, 'base64url');
}

/**
 * Single-use tokens for mailed links, in the `account_tokens` table: the only reader and
 * writer. A token is stored as its SHA-256 only, so neither the table nor a dump of it gives
 * a working link. Issuing one ends the unused tokens of the same account and purpose (a newer
 * link makes older ones dead); consuming one is a single UPDATE that only one caller can win,
 * and an unknown, used, expired or ended token all answer the same `null`.
 */
@Injectable()
export class AccountTokenStore {
  constructor(private readonly database: Database) {}

  /**
   * A new token for `userId` and `purpose`, valid for `ttlSeconds`, in the caller's
   * transaction (with the mail that carries it). Returns the token itself: the only time it
   * exists outside the mail. `keepOlder` leaves the account's other live tokens of the
   * purpose working (an undo link must survive a later change, or a thief could end it).
   */
  async issue(
    tx: Tx,
    input: {
      userId: string;
      purpose: AccountTokenPurpose;
      ttlSeconds: number;
      email?: string | null;
      now?: Date;
      keepOlder?: boolean;
    },
  ): Promise<{ id: string; token: string; expiresAt: Date }> {
    const now = input.now ?? new Date();
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
    if (!input.keepOlder)
      await tx
        .update(accountTokens)
        .set({ endedAt: now })
        .where(
          and(
            eq(accountTokens.userId, input.userId),
            eq(accountTokens.purpose, input.purpose),
            isNull(accountTokens.endedAt),
          ),
        );
    await tx.insert(accountTokens).values({
      id,
      userId: input.userId,
      purpose: input.purpose,
      tokenHash: digest(token),
      email: input.email ?? null,
      createdAt: now,
      expiresAt,
    });
    return { id, token, expiresAt };
  }

  /**
   * Uses up a token of `purpose`, in the caller's transaction: the row, if the token was
   * live, else null. Two callers racing with one token: one gets the row.
   */
  async consume(
    tx: Tx,
    purpose: AccountTokenPurpose,
    token: string,
  ): Promise<AccountToken | null> {
    if (!isTokenShaped(token)) return null;
    const now = new Date();
    const [row] = await tx
      .update(accountTokens)
      .set({ endedAt: now })
      .where(
        and(
          eq(accountTokens.tokenHash, digest(token)),
          eq(accountTokens.purpose, purpose),
          isNull(accountTokens.endedAt),
          gt(accountTokens.expiresAt, now),
        ),
      )
      .returning({
        id: accountTokens.id,
        userId: accountTokens.userId,
        purpose: accountTokens.purpose,
        email: accountTokens.email,
        createdAt: accountTokens.createdAt,
      });
    return row ? { ...row, purpose: row.purpose as AccountTokenPurpose } : null;
  }

  /** Whether a token of `purpose` is live, without using it (a link's page, before its button). */
  async peek(
    purpose: AccountTokenPurpose,
    token: string,
  ): Promise<AccountToken | null> {
    if (!isTokenShaped(token)) return null;
    const [row] = await this.database.run(() =>
      this.database.db
        .select({
          id: accountTokens.id,
          userId: accountTokens.userId,
          purpose: accountTokens.purpose,
          email: accountTokens.email,
          createdAt: accountTokens.createdAt,
        })
        .from(accountTokens)
        .where(
          and(
            eq(accountTokens.tokenHash, digest(token)),
            eq(accountTokens.purpose, purpose),
            isNull(accountTokens.endedAt),
            gt(accountTokens.expiresAt, new Date()),
          ),
        ),
    );
    return row ? { ...row, purpose: row.purpose as AccountTokenPurpose } : null;
  }

  /** Ends every live token of the account for these purposes (a reset ends pending changes). */
  async endAll(
    tx: Tx,
    userId: string,
    purposes: readonly AccountTokenPurpose[],
  ): Promise<void> {
    if (purposes.length === 0) return;
    await tx
      .update(accountTokens)
      .set({ endedAt: new Date() })
      .where(
        and(
          eq(accountTokens.userId, userId),
          isNull(accountTokens.endedAt),
          or(...purposes.map((p) => eq(accountTokens.purpose, p))),
        ),
      );
  }

  /** Deletes tokens ended or expired over a week ago; how many. */
  async purge(): Promise<number> {
    const cutoff = sql`now() - make_interval(days => ${KEEP_ENDED_DAYS})`;
    const rows = await this.database.run(() =>
      this.database.backgroundDb
        .delete(accountTokens)
        .where(
          or(
            lt(accountTokens.endedAt, cutoff),
            lt(accountTokens.expiresAt, cutoff),
          ),
        )
        .returning({ id: accountTokens.id }),
    );
    return rows.length;
  }
}

/** What this store could have made: anything else is refused without a query. */
function isTokenShaped(token: string): boolean {
  return (
    typeof token === 'string' &&
    token.length > 0 &&
    token.length <= TOKEN_MAX_LENGTH &&
    TOKEN_SHAPE.test(token)
  );
}
