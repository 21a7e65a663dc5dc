import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EventContext } from '../events/security-event.js';
import { ownContext } from './event-context.js';
import type { ClientInfo, Principal } from './principal.js';
import { SCOPE_NAMES, scopesForRoles, type Scope } from './scopes.js';
import { AppConfig } from '../infra/config/app-config.js';
import type { Tx } from '../infra/db/database.js';
import { DomainError } from '../infra/http/domain-error.js';
import { hashSecret } from './secret-hash.js';
import {
  MetricsService,
  type PersonalTokenRevocationReason,
} from '../infra/metrics/metrics.service.js';
import { isRedisUnavailable } from '../infra/redis/redis-client.factory.js';
import {
  generatePersonalToken,
  isWellFormedPersonalToken,
  personalTokenDisplayPrefix,
} from './personal-token.js';
import {
  LAST_USED_INTERVAL_MS,
  PersonalTokenStore,
  type CachedPersonalToken,
  type PersonalTokenFacts,
} from './personal-token.store.js';

export const PERSONAL_TOKEN_DAYS = { min: 1, max: 365, default: 90 } as const;
const DAY_MS = 86_400_000;
const LAST_USED_CACHE_LIMIT = 10_000;

/** The answer to a create: the only time the secret `token` is ever shown. */
export interface CreatedPersonalToken {
  id: string;
  name: string;
  token: string;
  scopes: Scope[];
  /** ISO 8601. */
  expiresAt: string;
}

/** A token as its owner (or an admin) sees it later: never the secret or its hash. */
export interface PersonalTokenView {
  id: string;
  name: string;
  /** The secret's first characters (`sbat_` and four more), to tell tokens apart. */
  prefix: string;
  scopes: Scope[];
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; recorded at most once a minute. */
  lastUsedAt: string | null;
  /** ISO 8601. */
  expiresAt: string;
}

export interface CreatePersonalTokenInput {
  name: string;
  scopes: Scope[];
  /** 1-365; 90 when absent. */
  expiresInDays?: number;
  /** Re-authentication: a stolen session alone cannot mint a long-lived credential. */
  currentPassword: string;
}

/**
 * Personal access tokens: long-lived bearer credentials kept in PostgreSQL, checked through a
 * Redis cache (one GET when cached; one query on a miss; PostgreSQL alone while Redis is down).
 */
@Injectable()
export class PersonalTokensService {
  /** When this instance last recorded each token's use (epoch ms). */
  private readonly lastUseWritten = new Map<string, number>();

  constructor(
    private readonly store: PersonalTokenStore,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Mints a token for the caller once the request is valid and `reauthenticate` (the password
   * check) has passed. It may carry only scopes the caller's own credential holds, so never
   * more than the roles allow, and the account may hold at most PERSONAL_TOKENS_PER_USER live
   * tokens. `alsoIn` writes what goes with the token (its notice) in the insert's transaction.
   */
  async create(
    principal: Principal,
    input: CreatePersonalTokenInput,
    reauthenticate: () => Promise<void>,
    client: ClientInfo,
    alsoIn?: (tx: Tx, token: { name: string; prefix: string }) => Promise<void>,
  ): Promise<CreatedPersonalToken> {
    const days = input.expiresInDays ?? PERSONAL_TOKEN_DAYS.default;
    if (
      !Number.isInteger(days) ||
      days < PERSONAL_TOKEN_DAYS.min ||
      days > PERSONAL_TOKEN_DAYS.max
    )
      throw invalid(
        `expiresInDays must be an integer from ${PERSONAL_TOKEN_DAYS.min} to ${PERSONAL_TOKEN_DAYS.max}`,
      );
    const held = scopesForRoles(principal.roles).filter((scope) =>
      principal.scopes.includes(scope),
    );
    const beyond = input.scopes.filter((scope) => !held.includes(scope));
    if (input.scopes.length === 0 || beyond.length > 0)
      throw invalid(
        input.scopes.length === 0
          ? 'scopes must name at least one scope'
          : `scopes beyond what this account and credential hold: ${beyond.join(' ').slice(0, 100)}`,
      );
    await reauthenticate();
    const token = generatePersonalToken();
    const now = new Date();
    const row = {
      id: randomUUID(),
      userId: principal.userId,
      name: input.name,
      tokenHash: hashSecret(token),
      prefix: personalTokenDisplayPrefix(token),
      scopes: SCOPE_NAMES.filter((scope) => input.scopes.includes(scope)),
      createdAt: now,
      expiresAt: new Date(now.getTime() + days * DAY_MS),
    };
    const limit = this.config.personalTokensPerUser;
    const also = alsoIn && ((tx: Tx) => alsoIn(tx, row));
    if (
      !(await this.store.insert(
        row,
        limit,
        ownContext(principal, client),
        also,
      ))
    )
      throw invalid(
        `at most ${limit} personal access tokens per account; revoke one first`,
      );
    this.metrics.personalTokenCreated();
    return {
      id: row.id,
      name: row.name,
      token,
      scopes: row.scopes,
      expiresAt: row.expiresAt.toISOString(),
    };
  }

  /** The user's live tokens, newest first. */
  async list(userId: string): Promise<PersonalTokenView[]> {
    const rows = await this.store.listLive(userId);
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      createdAt: row.createdAt.toISOString(),
      lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
      expiresAt: row.expiresAt.toISOString(),
    }));
  }

  /**
   * Revokes one of the user's tokens. The cache entry is marked refused before the row goes,
   * so a revocation that cannot reach Redis fails (503) instead of leaving a cached token alive.
   * `context` is who revoked it and from where, for its event.
   */
  async revoke(
    userId: string,
    id: string,
    reason: PersonalTokenRevocationReason,
    context: EventContext,
  ): Promise<void> {
    const hash = await this.store.hashOf(userId, id);
    if (hash === null) throw notFound();
    await this.store.refuse([hash]);
    // Two revocations at once: the database lets one delete the row; the other is a 404.
    if (!(await this.store.delete(userId, id, { by: reason, ...context })))
      throw notFound();
    this.metrics.personalTokensRevoked(reason, 1);
  }

  /** Revokes every token of the user; how many live ones there were. */
  async revokeAll(
    userId: string,
    reason: PersonalTokenRevocationReason,
    context: EventContext,
  ): Promise<number> {
    const before = await this.store.hashesOf(userId);
    await this.store.refuse(before);
    const deleted = await this.store.deleteAll(userId, {
      by: reason,
      ...context,
    });
    // A token created between the two reads may have been used (and cached) meanwhile.
    const seen = new Set(before);
    await this.store.refuse(
      deleted.map((row) => row.hash).filter((hash) => !seen.has(hash)),
    );
    const live = deleted.filter((row) => row.live).length;
    this.metrics.personalTokensRevoked(reason, live);
    return live;
  }

  /** After a role change: the user's cached tokens carry the new roles from the next request on. */
  async rolesChanged(userId: string): Promise<void> {
    await this.store.rewriteCacheOf(userId);
  }

  /**
   * The principal behind a personal token, or null when it is mistyped (no lookup at all),
   * unknown, expired, revoked or its account disabled. Its scopes are the token's, narrowed
   * to what the account's current roles allow.
   */
  async resolve(token: string): Promise<Principal | null> {
    const facts = await this.lookup(token);
    if (!facts) return null;
    this.recordUse(facts.id);
    this.metrics.personalTokenUsed();
    return principalOf(facts);
  }

  /** What introspection (RFC 7662) tells a resource server of a live personal token; null otherwise. */
  async describe(
    token: string,
  ): Promise<{ principal: Principal; expiresAt: number } | null> {
    const facts = await this.lookup(token);
    return (
      facts && { principal: principalOf(facts), expiresAt: facts.expiresAt }
    );
  }

  /**
   * Revokes the token itself, for whoever holds it (RFC 7009: a leaked token's finder can end
   * it). False when it was not a live personal token.
   */
  async revokeSecret(token: string, client: ClientInfo): Promise<boolean> {
    if (!isWellFormedPersonalToken(token)) return false;
    const hash = hashSecret(token);
    await this.store.refuse([hash]);
    const revocation = { by: 'revocation_endpoint' as const, client };
    if (!(await this.store.deleteByHash(hash, revocation))) return false;
    this.metrics.personalTokensRevoked('revocation_endpoint', 1);
    return true;
  }

  /** The live token's facts: from the cache, else PostgreSQL (also while Redis is down). */
  private async lookup(token: string): Promise<PersonalTokenFacts | null> {
    if (!isWellFormedPersonalToken(token)) return null;
    const hash = hashSecret(token);
    let cached: CachedPersonalToken;
    let redisUp = true;
    try {
      cached = await this.store.cached(hash);
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      // Tokens keep working from PostgreSQL while Redis is down.
      cached = null;
      redisUp = false;
    }
    if (cached === 'refused') return null;
    let facts: PersonalTokenFacts | null = cached;
    if (!facts) {
      facts = await this.store.findLive(hash);
      if (redisUp) await this.store.fill(hash, facts).catch(() => undefined);
    }
    if (!facts || facts.expiresAt <= Date.now()) return null;
    return facts;
  }

  /** Off the request path, at most once a minute per token and instance; a lost write only ages lastUsedAt. */
  private recordUse(id: string): void {
    const now = Date.now();
    const last = this.lastUseWritten.get(id);
    if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
    if (this.lastUseWritten.size >= LAST_USED_CACHE_LIMIT)
      this.lastUseWritten.clear();
    this.lastUseWritten.set(id, now);
    this.store.recordUse(id, new Date(now)).catch(() => undefined);
  }
}

/** A personal token's principal: its scopes narrowed to what the account's roles allow now. */
function principalOf(facts: PersonalTokenFacts): Principal {
  return {
    userId: facts.userId,
    username: facts.username,
    roles: facts.roles,
    loginId: `pat:${facts.id}`,
    userCreatedAt: facts.userCreatedAt,
    scopes: scopesForRoles(facts.roles).filter((scope) =>
      facts.scopes.includes(scope),
    ),
    via: 'personal_token',
  };
}

function invalid(message: string): DomainError {
  return new DomainError('validation_failed', 'The request is invalid', {
    fields: [message],
  });
}

function notFound(): DomainError {
  return new DomainError('not_found', 'No such personal access token');
}
