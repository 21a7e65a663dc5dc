import { Inject, Injectable } from '@nestjs/common';
import {
  and,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  or,
  sql,
} from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Scope } from './scopes.js';
import type {
  EventContext,
  SecurityEventInput,
} from '../events/security-event.js';
import { SecurityEvents } from '../events/security-events.js';
import { Database, type Tx } from '../infra/db/database.js';
import { personalTokens, users } from '../infra/db/schema.js';
import { redisKeys } from '../infra/redis/redis-keys.js';
import { defineScripts, runScript } from '../infra/redis/redis-scripts.js';
import { rewritePersonalToken } from './personal-token.scripts.js';
import { REDIS } from '../infra/redis/redis.constants.js';
import type { PersonalTokenRevocationReason } from '../infra/metrics/metrics.service.js';
import type { Role } from '../users/user.js';

/** A cached positive answer is kept this long (never beyond the token's expiry). */
const CACHE_TTL_MS = 5 * 60_000;
/** An unknown, expired or refused token is remembered this long, so a client retrying it costs no query. */
const NEGATIVE_TTL_MS = 30_000;
/**
 * A revocation's tombstone outlives any cache fill that read the row just before it was
 * deleted (a fill is one query and one command, each bounded by a 1.5 s timeout).
 */
const TOMBSTONE_TTL_MS = 60_000;
/** The cache value of a revoked or unknown token. Not JSON, so never taken for a record. */
const TOMBSTONE = '-';
/** Last use is written at most this often per token. */
export const LAST_USED_INTERVAL_MS = 60_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The columns a token's facts come from: the token's own and its owner's. */
const FACTS_COLUMNS = {
  id: personalTokens.id,
  userId: personalTokens.userId,
  scopes: personalTokens.scopes,
  expiresAt: personalTokens.expiresAt,
  username: users.username,
  roles: users.roles,
  userCreatedAt: users.createdAt,
};

/** Everything a request authenticated by the token needs, so a cached check is one read. */
export interface PersonalTokenFacts {
  id: string;
  userId: string;
  username: string;
  roles: Role[];
  userCreatedAt: string;
  /** The scopes the token was created with; narrowed to the roles at use. */
  scopes: Scope[];
  /** Epoch ms. */
  expiresAt: number;
}

export interface PersonalTokenRow {
  id: string;
  userId: string;
  name: string;
  tokenHash: string;
  prefix: string;
  scopes: Scope[];
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

/** Why a token went, and who did it from where: its `personal_token.revoked` event. */
export interface Revocation extends EventContext {
  by: PersonalTokenRevocationReason;
}

/** The columns a revocation's event names: never the hash. */
const REVOKED_COLUMNS = {
  id: personalTokens.id,
  userId: personalTokens.userId,
  prefix: personalTokens.prefix,
  name: personalTokens.name,
  expiresAt: personalTokens.expiresAt,
};

/** What the cache said: the facts, a refusal (revoked, unknown), or nothing (ask PostgreSQL). */
export type CachedPersonalToken = PersonalTokenFacts | 'refused' | null;

/**
 * Personal access tokens: the `personal_tokens` table (the truth, durable) and the Redis cache
 * `auth:pat:<sha256>` in front of it. Sole owner of both. Every change to a token or to what
 * its principal carries overwrites the cache entry, so it holds on the next request on every
 * instance: a tombstone for a revocation, fresh facts for a role change. A cache fill never
 * overwrites (SET NX), so a fill that read PostgreSQL before the change cannot undo it.
 */
@Injectable()
export class PersonalTokenStore {
  constructor(
    private readonly database: Database,
    private readonly events: SecurityEvents,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    defineScripts(redis, [rewritePersonalToken]);
  }

  /**
   * Inserts a token unless its owner already holds `limit` live ones; false when refused. One
   * transaction that first locks the owner's row, so creates for one account (on any
   * instance) count one after the other, each seeing the rows the one before it inserted; its
   * `personal_token.created` event is written in it.
   */
  async insert(
    row: Omit<PersonalTokenRow, 'lastUsedAt'>,
    limit: number,
    context: EventContext,
    alsoIn?: (tx: Tx) => Promise<void>,
  ): Promise<boolean> {
    return this.events.inTransaction(async (tx, record) => {
      await tx
        .select({ id: users.id })
        .from(users)
        .where(eq(users.id, row.userId))
        .for('update');
      const [{ live }] = await tx
        .select({ live: count() })
        .from(personalTokens)
        .where(
          and(
            eq(personalTokens.userId, row.userId),
            gt(personalTokens.expiresAt, sql`now()`),
          ),
        );
      if (live >= limit) return false;
      await tx.insert(personalTokens).values(row);
      record({
        type: 'personal_token.created',
        userId: row.userId,
        ...context,
        details: {
          tokenId: row.id,
          prefix: row.prefix,
          name: row.name,
          scopes: row.scopes,
          expiresAt: row.expiresAt.toISOString(),
        },
      });
      await alsoIn?.(tx);
      return true;
    });
  }

  /**
   * Deletes up to `batch` tokens that expired more than `days` days ago; how many. Rows that
   * another instance's purge is deleting are skipped, not waited for.
   */
  async deleteExpired(days: number, batch: number): Promise<number> {
    const { db } = this.database;
    const rows = await this.database.run(() =>
      db
        .delete(personalTokens)
        .where(
          inArray(
            personalTokens.id,
            db
              .select({ id: personalTokens.id })
              .from(personalTokens)
              .where(
                lt(
                  personalTokens.expiresAt,
                  sql`now() - make_interval(days => ${days})`,
                ),
              )
              .limit(batch)
              .for('update', { skipLocked: true }),
          ),
        )
        .returning({ id: personalTokens.id }),
    );
    return rows.length;
  }

  /**
   * The live token with this hash and its owner's current facts, in one query; null when
   * unknown, expired or its account is disabled.
   */
  async findLive(tokenHash: string): Promise<PersonalTokenFacts | null> {
    const rows = await this.database.run(() =>
      this.database.db
        .select(FACTS_COLUMNS)
        .from(personalTokens)
        .innerJoin(users, eq(users.id, personalTokens.userId))
        .where(
          and(
            eq(personalTokens.tokenHash, tokenHash),
            gt(personalTokens.expiresAt, sql`now()`),
            eq(users.disabled, false),
          ),
        )
        .limit(1),
    );
    const row = rows[0];
    return row ? toFacts(row) : null;
  }

  /** A user's live tokens, newest first. */
  async listLive(userId: string): Promise<PersonalTokenRow[]> {
    if (!UUID.test(userId)) return [];
    const rows = await this.database.run(() =>
      this.database.db
        .select()
        .from(personalTokens)
        .where(
          and(
            eq(personalTokens.userId, userId),
            gt(personalTokens.expiresAt, sql`now()`),
          ),
        )
        .orderBy(desc(personalTokens.createdAt), desc(personalTokens.id)),
    );
    return rows.map(toRow);
  }

  /** The hash of one of the user's tokens, or null when it is not theirs (or not there). */
  async hashOf(userId: string, id: string): Promise<string | null> {
    if (!UUID.test(userId) || !UUID.test(id)) return null;
    const rows = await this.database.run(() =>
      this.database.db
        .select({ tokenHash: personalTokens.tokenHash })
        .from(personalTokens)
        .where(
          and(eq(personalTokens.id, id), eq(personalTokens.userId, userId)),
        ),
    );
    return rows[0]?.tokenHash ?? null;
  }

  async hashesOf(userId: string): Promise<string[]> {
    if (!UUID.test(userId)) return [];
    const rows = await this.database.run(() =>
      this.database.db
        .select({ tokenHash: personalTokens.tokenHash })
        .from(personalTokens)
        .where(eq(personalTokens.userId, userId)),
    );
    return rows.map((row) => row.tokenHash);
  }

  /** Deletes one of the user's tokens, with its event; true for the one caller that deleted it. */
  async delete(
    userId: string,
    id: string,
    revocation: Revocation,
  ): Promise<boolean> {
    if (!UUID.test(userId) || !UUID.test(id)) return false;
    const rows = await this.events.inTransaction(async (tx, record) => {
      const deleted = await tx
        .delete(personalTokens)
        .where(
          and(eq(personalTokens.id, id), eq(personalTokens.userId, userId)),
        )
        .returning(REVOKED_COLUMNS);
      deleted.map((row) => revokedEvent(row, revocation)).forEach(record);
      return deleted;
    });
    return rows.length === 1;
  }

  /**
   * Deletes the token with this hash, whoever's it is, with its event; true for the one caller
   * that deleted it.
   */
  async deleteByHash(
    tokenHash: string,
    revocation: Revocation,
  ): Promise<boolean> {
    const rows = await this.events.inTransaction(async (tx, record) => {
      const deleted = await tx
        .delete(personalTokens)
        .where(eq(personalTokens.tokenHash, tokenHash))
        .returning(REVOKED_COLUMNS);
      deleted.map((row) => revokedEvent(row, revocation)).forEach(record);
      return deleted;
    });
    return rows.length === 1;
  }

  /**
   * Deletes every token of the user, with an event for each live one; the hashes deleted,
   * live or expired.
   */
  async deleteAll(
    userId: string,
    revocation: Revocation,
  ): Promise<{ hash: string; live: boolean }[]> {
    if (!UUID.test(userId)) return [];
    const now = Date.now();
    const rows = await this.events.inTransaction(async (tx, record) => {
      const deleted = await tx
        .delete(personalTokens)
        .where(eq(personalTokens.userId, userId))
        .returning({
          ...REVOKED_COLUMNS,
          tokenHash: personalTokens.tokenHash,
        });
      deleted
        .filter((row) => row.expiresAt.getTime() > now)
        .map((row) => revokedEvent(row, revocation))
        .forEach(record);
      return deleted;
    });
    return rows.map((row) => ({
      hash: row.tokenHash,
      live: row.expiresAt.getTime() > now,
    }));
  }

  /** Records a use unless one was recorded less than a minute ago (by any instance). */
  async recordUse(id: string, at: Date): Promise<void> {
    const since = new Date(at.getTime() - LAST_USED_INTERVAL_MS);
    await this.database.run(() =>
      this.database.db
        .update(personalTokens)
        .set({ lastUsedAt: at })
        .where(
          and(
            eq(personalTokens.id, id),
            or(
              isNull(personalTokens.lastUsedAt),
              lt(personalTokens.lastUsedAt, since),
            ),
          ),
        ),
    );
  }

  /** One GET. */
  async cached(tokenHash: string): Promise<CachedPersonalToken> {
    const raw = await this.redis.get(redisKeys.personalToken(tokenHash));
    if (raw === null) return null;
    if (raw === TOMBSTONE) return 'refused';
    return JSON.parse(raw) as PersonalTokenFacts;
  }

  /** Caches what PostgreSQL said, unless a change has written the entry meanwhile. */
  async fill(
    tokenHash: string,
    facts: PersonalTokenFacts | null,
  ): Promise<void> {
    const key = redisKeys.personalToken(tokenHash);
    if (!facts) {
      await this.redis.set(key, TOMBSTONE, 'PX', NEGATIVE_TTL_MS, 'NX');
      return;
    }
    const ttl = cacheTtl(facts);
    if (ttl > 0)
      await this.redis.set(key, JSON.stringify(facts), 'PX', ttl, 'NX');
  }

  /**
   * Marks tokens refused in the cache, over whatever it held, on every instance at once. One
   * SET per key, never batched: the keys sit in different hash slots.
   */
  async refuse(tokenHashes: readonly string[]): Promise<void> {
    await Promise.all(
      tokenHashes.map((hash) =>
        this.redis.set(
          redisKeys.personalToken(hash),
          TOMBSTONE,
          'PX',
          TOMBSTONE_TTL_MS,
        ),
      ),
    );
  }

  /**
   * Rewrites the cache entries of a user's live tokens with their facts as PostgreSQL has them
   * now (after a role change); a tombstone is left alone.
   */
  async rewriteCacheOf(userId: string): Promise<void> {
    if (!UUID.test(userId)) return;
    const rows = await this.database.run(() =>
      this.database.db
        .select({ ...FACTS_COLUMNS, tokenHash: personalTokens.tokenHash })
        .from(personalTokens)
        .innerJoin(users, eq(users.id, personalTokens.userId))
        .where(
          and(
            eq(personalTokens.userId, userId),
            gt(personalTokens.expiresAt, sql`now()`),
          ),
        ),
    );
    await Promise.all(
      rows.map(async (row) => {
        const facts = toFacts(row);
        const ttl = cacheTtl(facts);
        if (ttl <= 0) return;
        await runScript(
          this.redis,
          rewritePersonalToken,
          [row.tokenHash],
          JSON.stringify(facts),
          ttl,
          TOMBSTONE,
        );
      }),
    );
  }
}

/** A revoked token's event: its id, shown prefix and name; never its hash. */
function revokedEvent(
  row: { id: string; userId: string; prefix: string; name: string },
  { by, ...context }: Revocation,
): SecurityEventInput {
  return {
    type: 'personal_token.revoked',
    userId: row.userId,
    ...context,
    details: { tokenId: row.id, prefix: row.prefix, name: row.name, by },
  };
}

function cacheTtl(facts: PersonalTokenFacts): number {
  return Math.min(CACHE_TTL_MS, facts.expiresAt - Date.now());
}

function toFacts(row: {
  id: string;
  userId: string;
  scopes: string[];
  expiresAt: Date;
  username: string;
  roles: string[];
  userCreatedAt: Date;
}): PersonalTokenFacts {
  return {
    id: row.id,
    userId: row.userId,
    username: row.username,
    roles: row.roles as Role[],
    userCreatedAt: row.userCreatedAt.toISOString(),
    scopes: row.scopes as Scope[],
    expiresAt: row.expiresAt.getTime(),
  };
}

function toRow(row: typeof personalTokens.$inferSelect): PersonalTokenRow {
  return { ...row, scopes: row.scopes as Scope[] };
}
