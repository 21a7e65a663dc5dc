import { MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-schedule.js';

describe('retryDelayMs', () => {
  it('waits the base after the first failure, then doubles', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 30_000))).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000,
    ]);
  });

  it('never waits more than an hour, however many tries have failed', () => {
    expect(retryDelayMs(8, 30_000)).toBe(3_600_000);
    expect(retryDelayMs(1_000, 30_000)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(1, 5_000_000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('tries about 30 times in the default 24 hours', () => {
    let elapsed = 0;
    let tries = 1;
    while (elapsed + retryDelayMs(tries, 30_000) <= 86_400_000) {
      elapsed += retryDelayMs(tries, 30_000);
      tries++;
    }
    expect(tries).toBeGreaterThanOrEqual(28);
    expect(tries).toBeLessThanOrEqual(32);
  });

  it('treats a count below one as the first failure', () => {
    expect(retryDelayMs(0, 100)).toBe(100);
  });
});
