import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../infra/config/app-config.js';
import { DomainError } from '../infra/http/domain-error.js';
import type { Role } from '../users/user.js';
import { AccessTokenStore } from './access-token.store.js';
import {
  LoginStore,
  type LoginCredentials,
  type NewLogin,
} from './login.store.js';
import { looksLikePersonalToken } from './personal-token.js';
import type {
  ClientInfo,
  LoginRecord,
  LoginUser,
  TokenRecord,
} from './principal.js';
import {
  openSuccessor,
  sealSuccessor,
  type SuccessorPair,
} from './refresh-grace.js';
import {
  RefreshTokenStore,
  type RefreshRecord,
} from './refresh-token.store.js';
import { formatScope, narrowScope, type Scope } from './scopes.js';
import { hashSecret } from './secret-hash.js';
import { SessionStore } from './session.store.js';

/** A login's last-seen time is written at most this often, per login and instance. */
const LAST_SEEN_INTERVAL_MS = 60_000;
const LAST_SEEN_CACHE_LIMIT = 10_000;

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  /** The access token's scopes. */
  scope: Scope[];
}

export interface RefreshedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  scope: string;
}

/** How a refresh went; `rotated` and `grace` carry the answer. */
export type RefreshOutcome =
  | { outcome: 'rotated' | 'grace'; tokens: RefreshedTokens }
  | {
      outcome: 'reuse_detected' | 'expired' | 'invalid';
      userId?: string;
      loginId?: string;
    };

/** A login made by `draft`, not yet stored; the secrets are answered only once it is. */
export interface DraftLogin {
  login: NewLogin;
  access: { token: string; record: TokenRecord };
  refresh?: { token: string; record: RefreshRecord };
}

export interface EndedLogins {
  logins: number;
  tokens: number;
}

/**
 * A login's life across the stores that hold its credentials: the login record names its
 * session and tokens, each written to its own store before the record names it, so ending the
 * login always finds what to delete. Ending one deletes the credentials first, then takes the
 * record, then deletes whatever it came to name in between.
 */
@Injectable()
export class LoginsService {
  private readonly lastSeenWritten = new Map<string, number>();

  constructor(
    private readonly records: LoginStore,
    private readonly accessTokens: AccessTokenStore,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly sessions: SessionStore,
    private readonly config: AppConfig,
  ) {}

  /** The account's login epoch, read before its password is checked; `record` needs it. */
  epochOf(userId: string): Promise<string> {
    return this.records.epoch(userId);
  }

  /**
   * Makes a login for the session `sessionId`, ending at `expiresAt`, with the scopes it was
   * granted, the user facts its tokens carry, its first access token and, when asked, its
   * first refresh token. Nothing is stored yet: `writeCredentials` then `record` store it.
   */
  draft(
    user: LoginUser,
    client: ClientInfo,
    expiresAt: number,
    sessionId: string,
    scope: Scope[],
    withRefreshToken: boolean,
  ): DraftLogin {
    const loginId = randomBytes(16).toString('base64url');
    const now = Date.now();
    const accessExpiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      expiresAt,
    );
    const access = newSecret();
    const refresh = withRefreshToken ? newSecret() : undefined;
    const refreshExpiresAt = this.refreshExpiry(now, expiresAt);
    return {
      login: {
        user,
        loginId,
        client,
        createdAt: now,
        expiresAt,
        scope: formatScope(scope),
        sessionRef: this.sessions.refOf(sessionId),
        accessToken: { hash: access.hash, expiresAt: accessExpiresAt },
        refreshToken: refresh && {
          hash: refresh.hash,
          expiresAt: refreshExpiresAt,
        },
      },
      access: {
        token: access.token,
        record: {
          userId: user.id,
          username: user.username,
          roles: user.roles,
          loginId,
          userCreatedAt: user.createdAt,
          scope,
          issuedAt: now,
          expiresAt: accessExpiresAt,
        },
      },
      refresh: refresh && {
        token: refresh.token,
        record: {
          userId: user.id,
          loginId,
          issuedAt: now,
          expiresAt: refreshExpiresAt,
        },
      },
    };
  }

  /**
   * Writes a drafted login's tokens. Until `record` names them on the login they are known to
   * no one (the secrets are still unanswered), so no ended login can miss them.
   */
  async writeCredentials(draft: DraftLogin): Promise<void> {
    if (draft.access.record.expiresAt <= Date.now()) throw loginEnded();
    const { login } = draft;
    await Promise.all([
      this.accessTokens.write(login.accessToken.hash, draft.access.record),
      login.refreshToken &&
        draft.refresh &&
        this.refreshTokens.write(login.refreshToken.hash, draft.refresh.record),
    ]);
  }

  /**
   * Records a drafted login, naming its session and tokens, in one script. From here on,
   * ending the login ends every credential it was made with. Refused when the account's logins
   * were all ended after `epoch` was read (before the password check).
   */
  async record(draft: DraftLogin, epoch: string): Promise<void> {
    // The record's lastSeenAt is now: the login's first requests need not write it again.
    this.rememberSeen(draft.login.loginId, Date.now());
    if (!(await this.records.create(draft.login, epoch)))
      throw new DomainError(
        'invalid_grant',
        'The account changed while logging in; log in again',
      );
  }

  /** Drops what a drafted login wrote, when it could not be recorded; the session too. */
  async discard(draft: DraftLogin): Promise<void> {
    const { login } = draft;
    await Promise.all([
      this.accessTokens.delete(login.accessToken.hash),
      login.refreshToken && this.refreshTokens.delete(login.refreshToken.hash),
      this.sessions.destroyByRef(login.sessionRef),
    ]);
  }

  /**
   * Issues an access token for a live login; it ends at the token TTL or the login's end,
   * whichever is first (an absolute PXAT, so it never outlives the login by a millisecond).
   */
  async issueToken(
    facts: Omit<TokenRecord, 'issuedAt' | 'expiresAt'>,
    loginExpiresAt: number,
  ): Promise<IssuedToken> {
    const now = Date.now();
    const expiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      loginExpiresAt,
    );
    if (expiresAt <= now) throw loginEnded();
    const record: TokenRecord = { ...facts, issuedAt: now, expiresAt };
    const { token: accessToken, hash } = newSecret();
    // Written before it is named, while no one knows it: once the login names it, ending the
    // login finds a key to delete. A login that has ended meanwhile refuses the name.
    await this.accessTokens.write(hash, record);
    const named = await this.records
      .nameAccessToken(record.userId, record.loginId, hash, expiresAt)
      .catch(async (err: unknown) => {
        await this.accessTokens.delete(hash).catch(() => undefined);
        throw err;
      });
    if (!named) {
      await this.accessTokens.delete(hash);
      throw loginEnded();
    }
    return {
      accessToken,
      expiresIn: Math.floor((expiresAt - now) / 1000),
      scope: record.scope,
    };
  }

  private refreshExpiry(now: number, loginExpiresAt: number): number {
    return Math.min(
      now + this.config.refreshTokenIdleSeconds * 1000,
      loginExpiresAt,
    );
  }

  findAccessToken(accessToken: string): Promise<TokenRecord | null> {
    return this.accessTokens.find(accessToken);
  }

  findRefreshToken(refreshToken: string): Promise<RefreshRecord | null> {
    return this.refreshTokens.find(refreshToken);
  }

  /** A live refresh token's record and its login's facts; null when rotated, ended or unknown. */
  async liveRefreshToken(refreshToken: string) {
    const record = await this.refreshTokens.find(refreshToken);
    if (!record) return null;
    const login = await this.records.facts(record.userId, record.loginId);
    // A rotated token is recognised (for reuse detection) but no longer live.
    if (!login || login.refreshHash !== hashSecret(refreshToken)) return null;
    return { record, login };
  }

  /**
   * Rotates a refresh token (RFC 6749 6): a new access token and a new refresh token, and the
   * presented one stops working. The access token may narrow the login's scope, never widen
   * it. The rotated token presented again within the grace window gets the same pair back;
   * later, or any older token of the login, is a reuse, and the caller ends the login.
   */
  async refresh(
    refreshToken: string,
    requested: Scope[] | undefined,
  ): Promise<RefreshOutcome> {
    const record = await this.refreshTokens.find(refreshToken);
    if (!record) return { outcome: 'invalid' };
    const { userId, loginId } = record;
    const login = await this.records.forRefresh(userId, loginId);
    if (!login) return { outcome: 'expired', loginId };
    const granted = login.scope.split(' ').filter(Boolean) as Scope[];
    const scope = narrowScope(requested, granted);
    const now = Date.now();
    const accessExpiresAt = Math.min(
      now + this.config.tokenTtlSeconds * 1000,
      login.expiresAt,
    );
    const nextExpiresAt = this.refreshExpiry(now, login.expiresAt);
    if (accessExpiresAt <= now) return { outcome: 'expired', loginId };
    const pair: SuccessorPair = {
      accessToken: randomToken(),
      accessExpiresAt,
      refreshToken: randomToken(),
      scope: formatScope(scope),
    };
    const accessHash = hashSecret(pair.accessToken);
    const nextHash = hashSecret(pair.refreshToken);
    // The successor's keys are written first, so whoever is answered with the pair (this
    // request, or an honest retry within the grace window) can use it at once. Until the
    // script names them on the login they are known to no one, and are dropped unless it rotates.
    await Promise.all([
      this.accessTokens.write(accessHash, {
        userId,
        loginId,
        username: login.username,
        roles: login.roles,
        userCreatedAt: login.userCreatedAt,
        scope,
        issuedAt: now,
        expiresAt: accessExpiresAt,
      }),
      this.refreshTokens.write(nextHash, {
        userId,
        loginId,
        issuedAt: now,
        expiresAt: nextExpiresAt,
      }),
    ]);
    const rotation = await this.records.rotate(userId, loginId, {
      presented: hashSecret(refreshToken),
      next: nextHash,
      nextExpiresAt,
      accessField: LoginStore.accessTokenField(accessHash),
      accessExpiresAt,
      graceMs: this.config.refreshReuseGraceSeconds * 1000,
      blob: sealSuccessor(pair, refreshToken, loginId),
    });
    if (rotation.outcome !== 'rotated')
      await Promise.all([
        this.accessTokens.delete(accessHash),
        this.refreshTokens.delete(nextHash),
      ]);
    switch (rotation.outcome) {
      case 'rotated':
        // Named only once written: a login ended after this rotation finds the successor and ends it.
        return { outcome: 'rotated', tokens: answerOf(pair, now) };
      case 'grace': {
        const earlier = openSuccessor(
          rotation.blob ?? '',
          refreshToken,
          loginId,
        );
        if (!earlier) return { outcome: 'invalid', loginId };
        return { outcome: 'grace', tokens: answerOf(earlier, now) };
      }
      case 'reuse':
        return { outcome: 'reuse_detected', userId, loginId };
      case 'ended':
        return { outcome: 'expired', loginId };
      default:
        return { outcome: 'invalid', loginId };
    }
  }

  /** Revokes one access token (RFC 7009): its key and its name on the login. */
  async revokeAccessToken(accessToken: string): Promise<boolean> {
    const hash = hashSecret(accessToken);
    const record = await this.accessTokens.find(accessToken);
    const deleted = await this.accessTokens.delete(hash);
    if (record)
      await this.records.unnameAccessToken(record.userId, record.loginId, hash);
    return deleted;
  }

  /** Best effort and throttled: a lost write only makes `lastSeenAt` older. */
  markSeen(userId: string, loginId: string): void {
    const now = Date.now();
    const last = this.lastSeenWritten.get(loginId);
    if (last !== undefined && now - last < LAST_SEEN_INTERVAL_MS) return;
    this.rememberSeen(loginId, now);
    this.records.markSeen(userId, loginId, now).catch(() => undefined);
  }

  private rememberSeen(loginId: string, at: number): void {
    if (this.lastSeenWritten.size >= LAST_SEEN_CACHE_LIMIT)
      this.lastSeenWritten.clear();
    this.lastSeenWritten.set(loginId, at);
  }

  /** Live logins of a user, newest first. Logins whose session and tokens have all lapsed are pruned. */
  async list(userId: string): Promise<LoginRecord[]> {
    const logins = await this.records.listUnexpired(userId);
    const alive = await Promise.all(
      logins.map((login) =>
        this.anyAlive(LoginStore.credentialsOf(login.fields)),
      ),
    );
    const live: LoginRecord[] = [];
    const dead: string[] = [];
    logins.forEach((login, i) => {
      if (alive[i]) live.push(LoginStore.toRecord(login.fields));
      else dead.push(login.id);
    });
    if (dead.length) await Promise.all(dead.map((id) => this.end(userId, id)));
    return live.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * One EXISTS per credential, each on its own: sessions and tokens sit in different hash
   * slots, and a Redis Cluster refuses a pipeline (or EXISTS a b) that spans slots.
   */
  private async anyAlive(credentials: LoginCredentials): Promise<boolean> {
    const found = await Promise.all([
      ...credentials.accessTokens.map((hash) => this.accessTokens.exists(hash)),
      ...(credentials.currentRefresh
        ? [this.refreshTokens.exists(credentials.currentRefresh)]
        : []),
      ...(credentials.sessionRef
        ? [this.sessions.existsByRef(credentials.sessionRef)]
        : []),
    ]);
    return found.some(Boolean);
  }

  exists(userId: string, loginId: string): Promise<boolean> {
    return this.records.exists(userId, loginId);
  }

  /**
   * Ends one login: its session, its tokens and its record. Credentials go first, so a failure
   * halfway leaves the record to retry with; the record is then read and deleted in one step,
   * and whatever it came to name in between is deleted too. Every credential is written
   * before its login names it, so a name always finds its key. Returns how many live tokens
   * it revoked.
   */
  async end(userId: string, loginId: string): Promise<number> {
    const first = LoginStore.credentialsOf(
      await this.records.read(userId, loginId),
    );
    const revoked = await this.deleteCredentials(first);
    const last = LoginStore.credentialsOf(
      await this.records.take(userId, loginId),
    );
    // What the record came to name after the first read (a token minted or rotated in
    // between); the rest is gone already.
    const lateRevoked = await this.deleteCredentials(namedSince(first, last));
    this.lastSeenWritten.delete(loginId);
    return revoked + lateRevoked;
  }

  /**
   * One DEL per key, each on its own: sessions and tokens live in other hash slots than the
   * login and each other, and a Redis Cluster refuses a pipeline (or DEL a b) across slots.
   * Returns how many live access tokens were deleted.
   */
  private async deleteCredentials(
    credentials: LoginCredentials,
  ): Promise<number> {
    const [deleted] = await Promise.all([
      Promise.all(
        credentials.accessTokens.map((hash) => this.accessTokens.delete(hash)),
      ),
      Promise.all(
        credentials.refreshTokens.map((hash) =>
          this.refreshTokens.delete(hash),
        ),
      ),
      credentials.sessionRef
        ? this.sessions.destroyByRef(credentials.sessionRef)
        : undefined,
    ]);
    return deleted.filter(Boolean).length;
  }

  /**
   * Ends every login of a user but `keepLoginId`: how many logins, and how many live tokens.
   * The account's epoch is raised first, so a login whose password was checked before this
   * began cannot be recorded after it.
   */
  async endAll(userId: string, keepLoginId?: string): Promise<EndedLogins> {
    await this.records.raiseEpoch(userId);
    const ids = await this.records.ids(userId);
    const targets = ids.filter((id) => id !== keepLoginId);
    const revoked = await Promise.all(
      targets.map((id) => this.end(userId, id)),
    );
    return {
      logins: targets.length,
      tokens: revoked.reduce((sum, n) => sum + n, 0),
    };
  }

  /** Fails fast (a store error) when the login records cannot be reached. */
  async assertReachable(userId: string): Promise<void> {
    await this.records.ids(userId);
  }

  /**
   * Rewrites the roles held in a user's live logins, tokens and sessions, keeping their TTLs.
   * One GET and one SET per key, never batched: the keys sit in different hash slots.
   */
  async updateRoles(userId: string, roles: Role[]): Promise<void> {
    const logins = await this.records.readAll(
      userId,
      await this.records.ids(userId),
    );
    await Promise.all(
      logins.flatMap((login) => {
        const { accessTokens, sessionRef } = LoginStore.credentialsOf(
          login.fields,
        );
        return [
          // What tokens minted by a later refresh carry; never recreates an ended login.
          this.records.setRoles(userId, login.id, roles),
          ...accessTokens.map((hash) =>
            this.accessTokens.rewriteRoles(hash, roles),
          ),
          ...(sessionRef
            ? [this.sessions.rewriteRoles(sessionRef, roles)]
            : []),
        ];
      }),
    );
  }
}

/** The credentials `later` names that `earlier` did not. */
function namedSince(
  earlier: LoginCredentials,
  later: LoginCredentials,
): LoginCredentials {
  const known = new Set([...earlier.accessTokens, ...earlier.refreshTokens]);
  return {
    accessTokens: later.accessTokens.filter((hash) => !known.has(hash)),
    refreshTokens: later.refreshTokens.filter((hash) => !known.has(hash)),
    sessionRef:
      later.sessionRef === earlier.sessionRef ? undefined : later.sessionRef,
  };
}

function answerOf(pair: SuccessorPair, now: number): RefreshedTokens {
  return {
    accessToken: pair.accessToken,
    expiresIn: Math.max(0, Math.floor((pair.accessExpiresAt - now) / 1000)),
    refreshToken: pair.refreshToken,
    scope: pair.scope,
  };
}

/**
 * 256 random bits as base64url, never starting like a personal token (the guard tells the
 * two apart by that prefix; about one draw in a billion is redrawn).
 */
function randomToken(): string {
  for (;;) {
    const token = randomBytes(32).toString('base64url');
    if (!looksLikePersonalToken(token)) return token;
  }
}

/** A fresh secret, and the SHA-256 it is stored under. */
function newSecret(): { token: string; hash: string } {
  const token = randomToken();
  return { token, hash: hashSecret(token) };
}

function loginEnded(): DomainError {
  return new DomainError('unauthenticated', 'The login has ended');
}
