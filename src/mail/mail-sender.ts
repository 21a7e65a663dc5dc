import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig, type MailConfig } from '../infra/config/app-config.js';
import { MetricsService } from '../infra/metrics/metrics.service.js';
import { MailCipher } from './mail-cipher.js';
import { MailOutboxStore, type ClaimedMail } from './mail-outbox.store.js';
import { MailTransport } from './mail-transport.js';
import { retryDelayMs } from './retry-schedule.js';

/** Rows claimed at once; a full batch is followed by another claim straight away. */
const BATCH = 10;
/** The longest a send may take, after which it is abandoned and retried. */
const SEND_TIMEOUT_MS = 60_000;
/** A claim's lease: well past SEND_TIMEOUT_MS, so a live instance never loses a row it is sending. */
const LEASE_MS = 5 * 60_000;
/** How often the outbox is looked at when nothing says sooner (another instance's mail, a retry due). */
const POLL_MS = 2_000;
/**
 * The shortest wait between two looks: a row still due after a cycle is one another session
 * holds locked (another instance claiming it), which is no reason to spin.
 */
const MIN_WAIT_MS = 100;
/** At shutdown, sends in flight get this long to finish; then they are cut off and their rows given back. */
const SHUTDOWN_WAIT_MS = 5_000;
/** Failed mails are kept this long for an operator to look at (recipient, error), then deleted. */
const KEEP_FAILED_DAYS = 7;
const PURGE_INTERVAL_MS = 3_600_000;

export interface MailBacklog {
  queued: number;
  oldestSeconds: number;
}

/**
 * Every instance runs one. It claims due mail from the outbox in short statements (never
 * holding a transaction open across a send), sends each outside any transaction, then deletes
 * the row, or schedules the next try with exponential backoff until MAIL_RETRY_FOR_SECONDS has
 * passed, or marks it failed. An SMTP outage, a restart or a crash loses nothing: a row stays
 * until it is sent or given up on, and a dead instance's lease runs out.
 */
@Injectable()
export class MailSender
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Mail');
  private readonly mail: MailConfig;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private cycle?: Promise<void>;
  private again = false;
  private stopped = false;
  private readonly shutdown = new AbortController();
  private lastCount?: MailBacklog;
  private lastPurge = 0;
  /** What the log last said about the database and the mail server, so an outage is one line. */
  private databaseFailing = false;
  private serverFailing = false;

  constructor(
    config: AppConfig,
    private readonly store: MailOutboxStore,
    private readonly cipher: MailCipher,
    private readonly transport: MailTransport,
    private readonly metrics: MetricsService,
  ) {
    this.mail = config.mail;
  }

  onApplicationBootstrap(): void {
    if (!this.mail.enabled) return;
    this.logger.log(`Mail goes to ${this.transport.describe()}`);
    this.metrics.readMailBacklogFrom(() => this.lastCount);
    // The first cycle comes a little after boot, with the rest of the start-up done.
    this.wake(50);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const cycle = this.cycle;
    if (cycle) {
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        cycle.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), SHUTDOWN_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        this.shutdown.abort();
        await cycle;
      }
    }
    this.transport.close(true);
  }

  /** The outbox as last counted (every instance's mail), or undefined while it cannot be. */
  backlog(): MailBacklog | undefined {
    return this.lastCount;
  }

  /** Looks at the outbox within `delayMs` (sooner if already due to). */
  wake(delayMs = 0): void {
    if (this.stopped || !this.mail.enabled) return;
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.run();
    }, delayMs);
    // The sender never keeps the process alive on its own.
    this.timer.unref();
  }

  private run(): void {
    if (this.cycle) {
      this.again = true;
      return;
    }
    this.cycle = this.sendDue()
      .then((nextMs) => this.wake(nextMs))
      .finally(() => {
        this.cycle = undefined;
        if (this.again) {
          this.again = false;
          this.wake(0);
        }
      });
  }

  /** One cycle: sends what is due, counts the rest; when to look again. */
  private async sendDue(): Promise<number> {
    try {
      for (;;) {
        if (this.stopped) return POLL_MS;
        const claimed = await this.store.claim(BATCH, LEASE_MS);
        const results = await Promise.allSettled(
          claimed.map((mail) => this.deliver(mail)),
        );
        const broken = results.find((r) => r.status === 'rejected');
        if (broken) throw broken.reason;
        if (claimed.length < BATCH) break;
      }
      if (Date.now() - this.lastPurge > PURGE_INTERVAL_MS) {
        this.lastPurge = Date.now();
        const purged = await this.store.deleteFailed(KEEP_FAILED_DAYS);
        if (purged > 0)
          this.logger.log(
            `Deleted ${purged} failed mails older than ${KEEP_FAILED_DAYS} days`,
          );
      }
      const { queued, oldestSeconds, nextDueSeconds } =
        await this.store.backlog();
      this.lastCount = { queued, oldestSeconds };
      if (this.databaseFailing) {
        this.databaseFailing = false;
        this.logger.log('Mail outbox reachable again');
      }
      return nextDueSeconds === null
        ? POLL_MS
        : Math.min(POLL_MS, Math.max(MIN_WAIT_MS, nextDueSeconds * 1000));
    } catch (err) {
      this.lastCount = undefined;
      if (!this.databaseFailing) {
        this.databaseFailing = true;
        this.logger.warn(
          `Mail outbox unavailable, mail waits (${this.transport.reason(err)})`,
        );
      }
      return POLL_MS;
    }
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    const content =
      mail.payload !== null
        ? this.cipher.open({ ...mail, payload: mail.payload })
        : undefined;
    if (!content) {
      await this.store.fail(
        mail,
        'cannot be decrypted: SESSION_SECRET no longer lists the secret it was queued under',
      );
      this.metrics.mailFailed();
      this.logger.warn(
        `Mail ${mail.id} failed: it cannot be decrypted with any SESSION_SECRET`,
      );
      return;
    }
    const signal = AbortSignal.any([
      this.shutdown.signal,
      AbortSignal.timeout(SEND_TIMEOUT_MS),
    ]);
    try {
      await this.transport.send(
        mail.id,
        { to: mail.recipient, ...content },
        signal,
      );
    } catch (err) {
      await this.failed(mail, err);
      return;
    }
    if (this.serverFailing) {
      this.serverFailing = false;
      this.logger.log('Mail server reachable again');
    }
    await this.store.delete(mail);
    this.metrics.mailSent();
  }

  private async failed(mail: ClaimedMail, err: unknown): Promise<void> {
    const reason = this.transport.reason(err);
    if (this.shutdown.signal.aborted) {
      await this.store.release(mail);
      return;
    }
    if (!this.mail.enabled) return;
    if (this.transport.isPermanent(err)) {
      await this.store.fail(mail, reason);
      this.metrics.mailFailed();
      this.logger.warn(`Mail ${mail.id} refused for good: ${reason}`);
      return;
    }
    const failed = await this.store.retryOrFail(
      mail,
      retryDelayMs(mail.attempts, this.mail.retryBaseMs),
      this.mail.retryForSeconds,
      reason,
    );
    if (failed) {
      this.metrics.mailFailed();
      this.logger.warn(
        `Mail ${mail.id} failed: still undelivered after ${this.mail.retryForSeconds} s (${reason})`,
      );
    } else {
      this.metrics.mailRetried();
      if (!this.serverFailing) {
        this.serverFailing = true;
        this.logger.warn(`Mail not delivered, will be retried: ${reason}`);
      }
    }
  }
}
