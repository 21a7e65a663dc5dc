import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { PersonalTokenStore } from './personal-token.store.js';

/** Expired tokens are kept this long (an owner may still wonder where one went), then deleted. */
const PURGE_AFTER_DAYS = 30;
const PURGE_BATCH = 500;
const FIRST_PURGE_MS = 60_000;
const PURGE_INTERVAL_MS = 3_600_000;

/**
 * Deletes personal tokens that expired more than 30 days ago (revoked ones are deleted at
 * once), in small batches, a minute after boot and hourly after that. Every instance runs it;
 * batches of two instances skip each other's rows, so running twice costs nothing but a query.
 */
@Injectable()
export class PersonalTokenPurge
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('PersonalTokens');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(private readonly store: PersonalTokenStore) {}

  onApplicationBootstrap(): void {
    this.schedule(FIRST_PURGE_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // The database closes after this; a batch in flight finishes first (within its deadline).
    await this.running;
  }

  /** Deletes every token expired more than 30 days ago, `batch` rows at a time; how many. */
  async purge(batch = PURGE_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.deleteExpired(PURGE_AFTER_DAYS, batch);
      total += deleted;
      if (deleted < batch || this.stopped) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.purge()
        .then(
          (deleted) => {
            if (deleted > 0)
              this.logger.log(`Purged ${deleted} long-expired personal tokens`);
          },
          (err: unknown) =>
            this.logger.warn(
              `Purge of expired personal tokens deferred: ${err instanceof Error ? err.message : String(err)}`,
            ),
        )
        .finally(() => this.schedule(PURGE_INTERVAL_MS));
    }, delayMs);
    // The purge never keeps the process alive on its own.
    this.timer.unref();
  }
}
