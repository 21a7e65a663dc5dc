import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { ClientInfo } from '../credentials/principal.js';
import { AppConfig } from '../infra/config/app-config.js';
import { UsersService } from '../users/users.service.js';
import { AccountNotices } from './account-notices.js';
import { PasswordResetThrottle } from './password-reset-throttle.js';

/** Requests waiting in memory; past this many, new ones are dropped (their answer was sent already). */
const QUEUE_LIMIT = 1000;

interface ResetRequest {
  login: string;
  client: ClientInfo;
}

/**
 * `POST /auth/password/forgot`, off the request path: the route only queues the login typed
 * and answers, so neither its answer nor its timing depends on whether an account matched.
 * One request at a time, in this process: the throttle (address, login, account), the lookup,
 * then a link, its event and its mail in one transaction. The queue is in memory: a restart
 * loses requests not yet processed (the person asks again); shutdown finishes what is queued.
 */
@Injectable()
export class PasswordResetRequests implements BeforeApplicationShutdown {
  private readonly logger = new Logger('PasswordReset');
  private readonly queue: ResetRequest[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly users: UsersService,
    private readonly throttle: PasswordResetThrottle,
    private readonly notices: AccountNotices,
    private readonly config: AppConfig,
  ) {}

  /** Queues a request; never waits, never fails. */
  submit(login: string, client: ClientInfo): void {
    if (this.queue.length >= QUEUE_LIMIT) {
      this.logger.warn('Password-reset queue full: a request was dropped');
      return;
    }
    this.queue.push({ login, client });
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every queued request has been processed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const request = next;
      await this.process(request).catch((err: unknown) =>
        // The login typed is not logged: it may be someone's address, or a password typed in the wrong box.
        this.logger.warn(
          `A password-reset request failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
  }

  private async process({ login, client }: ResetRequest): Promise<void> {
    if (!(await this.throttle.fromAddress(client.ip))) return;
    if (!(await this.throttle.forLogin(login))) return;
    const user = await this.users.findForReset(login);
    if (!user?.email || !user.emailVerifiedAt) return;
    if (!(await this.throttle.forAccount(user.id))) return;
    const ttl = this.config.passwordResetTtlSeconds;
    await this.users.issueResetLink(user, ttl, { client }, (tx, token) =>
      this.notices.resetLink(tx, user, token, ttl),
    );
  }
}
