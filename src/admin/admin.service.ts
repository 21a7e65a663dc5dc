import { Injectable } from '@nestjs/common';
import { LoginsService } from '../credentials/logins.service.js';
import {
  PersonalTokensService,
  type PersonalTokenView,
} from '../credentials/personal-tokens.service.js';
import { adminContext } from '../credentials/event-context.js';
import type { ClientInfo, Principal } from '../credentials/principal.js';
import { SecurityEvents } from '../events/security-events.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { PublicUser, Role, toPublicUser } from '../users/user.js';
import { UsersService } from '../users/users.service.js';
import { decodeCursor, encodeCursor } from '../infra/http/keyset-cursor.js';
import type { AdminSecurityEventDto } from '../account/dto/security-event.dto.js';
import {
  adminEventView,
  readEventPage,
  type EventPage,
} from '../account/security-event-page.js';
import type { SecurityEventType } from '../events/security-event-types.js';
import { SecurityEventStore } from '../events/security-event.store.js';

@Injectable()
export class AdminService {
  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginsService,
    private readonly metrics: MetricsService,
    private readonly personalTokens: PersonalTokensService,
    private readonly events: SecurityEvents,
    private readonly eventStore: SecurityEventStore,
  ) {}

  /** Any account's security events, newest first, narrowed by the filters given. */
  async listEvents(query: {
    limit: number;
    after?: string;
    user?: string;
    type?: SecurityEventType;
    since?: string;
    until?: string;
  }): Promise<EventPage<AdminSecurityEventDto>> {
    const events = await readEventPage(
      (filter) => this.eventStore.list(filter),
      {
        userId: query.user?.toLowerCase(),
        type: query.type,
        since: query.since === undefined ? undefined : new Date(query.since),
        until: query.until === undefined ? undefined : new Date(query.until),
      },
      query,
    );
    return { ...events, items: events.items.map(adminEventView) };
  }

  /**
   * The caller's account, from the credential's own snapshot (kept current by role changes),
   * so the request needs no read beyond the credential check.
   */
  me(
    principal: Principal,
  ): Pick<PublicUser, 'id' | 'username' | 'roles' | 'createdAt'> {
    return {
      id: principal.userId,
      username: principal.username,
      roles: principal.roles,
      createdAt: principal.userCreatedAt,
    };
  }

  async list(query: {
    limit: number;
    after?: string;
    q?: string;
  }): Promise<{ items: PublicUser[]; nextCursor: string | null }> {
    const page = await this.users.list({
      limit: query.limit,
      after: query.after === undefined ? undefined : userPosition(query.after),
      usernamePrefix: query.q,
    });
    return {
      items: page.items.map(toPublicUser),
      nextCursor: page.next
        ? encodeCursor({ at: page.next.createdAt, id: page.next.id })
        : null,
    };
  }

  /**
   * Disabling ends every login and revokes every personal token; a role change reaches the
   * user's live sessions and tokens at once. `admin` is who asked, named in the events.
   */
  async update(
    id: string,
    patch: { roles?: Role[]; disabled?: boolean },
    admin: Principal,
    client: ClientInfo,
  ): Promise<PublicUser> {
    const context = adminContext(admin, client);
    // Only the fields given: a validated DTO also carries the absent ones, as undefined.
    const changes: { roles?: Role[]; disabled?: boolean } = {};
    if (patch.roles !== undefined) changes.roles = patch.roles;
    if (patch.disabled !== undefined) changes.disabled = patch.disabled;
    // Personal tokens go first: if Redis cannot take their revocation, nothing has changed
    // (503), instead of an account disabled in PostgreSQL whose cached tokens still work.
    if (changes.disabled)
      await this.personalTokens.revokeAll(id, 'account_disabled', context);
    // A role change must reach every credential, or nothing: with Redis out of reach it is
    // refused (503) before PostgreSQL changes; a failure after that is completed by the retry.
    else if (changes.roles) await this.logins.assertReachable(id);
    const user = await this.users.update(id, changes, context);
    // Redis keys are spelled with the stored (lower-case) id: an id in the path matches any case.
    if (user.disabled) {
      // Again, for a token created while the account was being disabled.
      await this.personalTokens.revokeAll(user.id, 'account_disabled', context);
      const ended = await this.logins.endAll(user.id);
      this.metrics.tokensRevoked('account_disabled', ended.tokens);
    } else if (patch.roles) {
      await this.personalTokens.rolesChanged(user.id);
      await this.logins.updateRoles(user.id, user.roles);
    }
    return toPublicUser(user);
  }

  async endLogins(
    id: string,
    admin: Principal,
    client: ClientInfo,
  ): Promise<number> {
    const user = await this.users.getById(id);
    const ended = await this.logins.endAll(user.id);
    this.metrics.tokensRevoked('admin_ended', ended.tokens);
    this.events.record({
      type: 'admin.logins_ended',
      userId: user.id,
      ...adminContext(admin, client),
      details: { logins: ended.logins },
    });
    return ended.logins;
  }

  async revokePersonalToken(
    userId: string,
    id: string,
    admin: Principal,
    client: ClientInfo,
  ): Promise<void> {
    await this.personalTokens.revoke(
      userId,
      id,
      'admin',
      adminContext(admin, client),
    );
  }

  async revokePersonalTokens(
    id: string,
    admin: Principal,
    client: ClientInfo,
  ): Promise<number> {
    const user = await this.users.getById(id);
    return this.personalTokens.revokeAll(
      user.id,
      'admin',
      adminContext(admin, client),
    );
  }

  async listPersonalTokens(id: string): Promise<PersonalTokenView[]> {
    await this.users.getById(id);
    return this.personalTokens.list(id);
  }
}

function userPosition(cursor: string): { createdAt: string; id: string } {
  const { at, id } = decodeCursor(cursor);
  return { createdAt: at, id };
}
