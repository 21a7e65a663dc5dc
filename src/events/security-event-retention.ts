import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config.js';
import { SecurityEventStore } from './security-event.store.js';

const DAY_MS = 86_400_000;
/** Small, so a batch holds its locks briefly and never competes with logins for long. */
const RETENTION_BATCH = 1000;
const FIRST_RUN_MS = 60_000;
const RUN_INTERVAL_MS = 3_600_000;

/**
 * Deletes security events older than SECURITY_EVENTS_RETENTION_DAYS, a batch at a time, a
 * minute after boot and hourly after that. Every instance schedules it; one at a time
 * deletes (the store's advisory lock), the others find the lock taken and wait an hour.
 */
@Injectable()
export class SecurityEventRetention
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('SecurityEvents');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly store: SecurityEventStore,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(FIRST_RUN_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // The database closes after this; a batch in flight finishes first (within its deadline).
    await this.running;
  }

  /** Deletes every event older than the retention window, `batch` rows at a time; how many. */
  async run(now = new Date(), batch = RETENTION_BATCH): Promise<number> {
    const cutoff = new Date(
      now.getTime() - this.config.securityEvents.retentionDays * DAY_MS,
    );
    let total = 0;
    for (;;) {
      const deleted = await this.store.deleteOlderThan(cutoff, batch);
      total += deleted;
      if (deleted < batch || this.stopped) return total;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run()
        .then(
          (deleted) => {
            if (deleted > 0)
              this.logger.log(
                `Deleted ${deleted} security events older than ${this.config.securityEvents.retentionDays} days`,
              );
          },
          (err: unknown) =>
            this.logger.warn(
              `Security-event retention deferred: ${err instanceof Error ? err.message : String(err)}`,
            ),
        )
        .finally(() => this.schedule(RUN_INTERVAL_MS));
    }, delayMs);
    // Retention never keeps the process alive on its own.
    this.timer.unref();
  }
}
