import { DomainError } from '../infra/http/domain-error.js';

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Runs password hashes `concurrency` at a time, and never lets one wait for its turn longer
 * than `maxWaitMs`: a job still queued then is refused at once with `overloaded`, so a login
 * storm is answered promptly (a token, or a 503 to retry) instead of queueing without bound.
 * Jobs start in arrival order. p-limit has no per-job wait deadline, hence this small queue.
 */
export class HashingQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaitMs: number,
  ) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    await this.turn();
    try {
      return await job();
    } finally {
      this.running--;
      this.waiting.shift()?.start();
    }
  }

  /** Jobs waiting for a turn; for tests and metrics. */
  get queued(): number {
    return this.waiting.length;
  }

  private turn(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.running++;
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(overloaded(this.maxWaitMs));
        }, this.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }
}

function overloaded(maxWaitMs: number): DomainError {
  return new DomainError(
    'overloaded',
    'Too many logins at once; retry shortly',
    { retryAfterSeconds: Math.max(1, Math.ceil(maxWaitMs / 1000)) },
  );
}
