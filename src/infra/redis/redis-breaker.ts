/** What a command gets at once, without reaching Redis, while its connection's breaker is open. */
export class RedisUnavailableError extends Error {
  constructor() {
    super('Redis did not answer in time; failing fast until it answers again');
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisBreakerOptions {
  /** Pause between a failed probe and the next one. */
  retryMs: number;
  onOpen?: (reason: string) => void;
  onClose?: () => void;
}

/**
 * The circuit breaker of one Redis connection, as a state machine apart from ioredis.
 *
 * A connection that is up but does not answer (a frozen server, a network black hole) makes
 * every command wait for its timeout. Once one has timed out, the breaker opens and the
 * connection's commands fail at once; a single probe at a time then asks Redis, and the
 * breaker closes when it answers (or when ioredis reports a fresh, ready connection).
 */
export class RedisBreaker {
  private opened = false;
  private probing = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly options: RedisBreakerOptions,
  ) {}

  /** Read on every command, so a plain field read. */
  get open(): boolean {
    return this.opened;
  }

  /** Opens the breaker (if not yet open) and starts the probe, unless one is running. */
  trip(reason: string): void {
    if (this.stopped) return;
    if (!this.opened) {
      this.opened = true;
      this.options.onOpen?.(reason);
    }
    if (!this.probing) void this.probeUntilAnswered();
  }

  /** Redis has answered: commands go through again. */
  close(): void {
    if (!this.opened) return;
    this.opened = false;
    this.options.onClose?.();
  }

  /** The connection is gone for good: no more probes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async probeUntilAnswered(): Promise<void> {
    this.probing = true;
    try {
      while (this.opened && !this.stopped) {
        try {
          await this.probe();
          if (!this.stopped) this.close();
        } catch {
          await this.pause();
        }
      }
    } finally {
      this.probing = false;
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, this.options.retryMs);
      // The probe never keeps the process alive on its own.
      this.timer.unref();
    });
  }
}
