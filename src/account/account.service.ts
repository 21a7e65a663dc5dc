import { Injectable } from '@nestjs/common';
import { LoginsService } from '../credentials/logins.service.js';
import {
  PersonalTokensService,
  type CreatedPersonalToken,
  type CreatePersonalTokenInput,
  type PersonalTokenView,
} from '../credentials/personal-tokens.service.js';
import { ownContext } from '../credentials/event-context.js';
import type {
  ClientInfo,
  LoginRecord,
  Principal,
} from '../credentials/principal.js';
import { SecurityEvents } from '../events/security-events.js';
import { DomainError } from '../infra/http/domain-error.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { SecurityEventStore } from '../events/security-event.store.js';
import { AccountNotices } from '../login/account-notices.js';
import { LoginService } from '../login/login.service.js';
import type { User } from '../users/user.js';
import type { SecurityEventDto } from './dto/security-event.dto.js';
import {
  ownEventView,
  readEventPage,
  type EventPage,
} from './security-event-page.js';

/** Self-service: the caller's own logins and personal tokens. */
@Injectable()
export class AccountService {
  constructor(
    private readonly logins: LoginsService,
    private readonly personalTokens: PersonalTokensService,
    private readonly login: LoginService,
    private readonly metrics: MetricsService,
    private readonly events: SecurityEvents,
    private readonly eventStore: SecurityEventStore,
    private readonly notices: AccountNotices,
  ) {}

  /** The caller's own security events, newest first, a page at a time. */
  async listEvents(
    principal: Principal,
    page: { limit: number; after?: string },
  ): Promise<EventPage<SecurityEventDto>> {
    const events = await readEventPage(
      (filter) => this.eventStore.list(filter),
      { userId: principal.userId },
      page,
    );
    return { ...events, items: events.items.map(ownEventView) };
  }

  /** Ends the caller's login: its session and every token issued with it. */
  async logout(principal: Principal, client: ClientInfo): Promise<void> {
    const revoked = await this.logins.end(principal.userId, principal.loginId);
    this.metrics.tokensRevoked('logout', revoked);
    this.events.record({
      type: 'logout',
      userId: principal.userId,
      ...ownContext(principal, client),
    });
  }

  async listLogins(
    principal: Principal,
  ): Promise<(LoginRecord & { current: boolean })[]> {
    const logins = await this.logins.list(principal.userId);
    return logins.map((login) => ({
      ...login,
      current: login.id === principal.loginId,
    }));
  }

  async endLogin(
    principal: Principal,
    loginId: string,
    client: ClientInfo,
  ): Promise<void> {
    if (!(await this.logins.exists(principal.userId, loginId))) {
      throw new DomainError('not_found', 'No such login');
    }
    const revoked = await this.logins.end(principal.userId, loginId);
    this.metrics.tokensRevoked('login_ended', revoked);
    const { loginId: from } = ownContext(principal, client);
    this.events.record({
      type: 'login.ended',
      userId: principal.userId,
      client,
      // The login ended; the one that ended it, if another, is in the details.
      loginId,
      details: { by: 'owner', ...(from && from !== loginId && { from }) },
    });
  }

  async endAllLogins(principal: Principal, client: ClientInfo): Promise<void> {
    const ended = await this.logins.endAll(principal.userId);
    this.metrics.tokensRevoked('logout_all', ended.tokens);
    this.events.record({
      type: 'logout_all',
      userId: principal.userId,
      ...ownContext(principal, client),
      details: { logins: ended.logins },
    });
  }

  /**
   * A personal token for the caller, once the current password is confirmed (under the
   * throttle), with a notice to the account's verified address in the same transaction.
   */
  createPersonalToken(
    principal: Principal,
    input: CreatePersonalTokenInput,
    client: ClientInfo,
  ): Promise<CreatedPersonalToken> {
    // Read by the password check, before the insert's transaction opens.
    let user: User | undefined;
    return this.personalTokens.create(
      principal,
      input,
      async () => {
        user = await this.login.confirmPassword(
          principal,
          input.currentPassword,
          client,
        );
      },
      client,
      async (tx, token) => {
        if (user) await this.notices.personalTokenCreated(tx, user, token);
      },
    );
  }

  listPersonalTokens(principal: Principal): Promise<PersonalTokenView[]> {
    return this.personalTokens.list(principal.userId);
  }

  revokePersonalToken(
    principal: Principal,
    id: string,
    client: ClientInfo,
  ): Promise<void> {
    return this.personalTokens.revoke(
      principal.userId,
      id,
      'owner',
      ownContext(principal, client),
    );
  }
}
